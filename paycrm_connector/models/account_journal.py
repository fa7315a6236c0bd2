from odoo import models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    def _paycrm_payout_gateways(self):
        """The gateways whose payouts arrive in this bank journal."""
        self.ensure_one()
        # sudo: gateways are the connector's; the journal bounds what is read.
        return (
            self.env["paycrm.gateway"]
            .sudo()
            .search([("company_id", "=", self.company_id.id)])
            .filtered(lambda gateway: gateway._paycrm_payout_journal() == self)
        )

    def _paycrm_payout_transit_account(self):
        """Where a gateway payout waits until the bank statement shows it.

        The bank journal's outstanding receipts account (its first inbound
        payment method that names one, else the company's, else its transfer
        account), as for any payment Odoo books into that bank: the statement
        line is then matched against it instead of adding the money to the
        bank a second time.
        """
        self.ensure_one()
        accounts = self._get_journal_inbound_outstanding_payment_accounts()
        if accounts.filtered("reconcile"):
            return accounts.filtered("reconcile")[:1]
        # As account.payment finds it when the method names none.
        chart = self.env["account.chart.template"].with_context(
            allowed_company_ids=self.company_id.root_id.ids
        )
        return (
            chart.ref(
                "account_journal_payment_debit_account_id", raise_if_not_found=False
            )
            or self.company_id.transfer_account_id
        )
