from odoo import models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    def _paycrm_payout_transit_account(self):
        """Where a gateway payout waits until the bank statement shows it.

        The bank journal's outstanding receipts account (its first inbound
        payment method that names one, else the company's), as for any
        payment Odoo books into that bank: the statement line is then matched
        against it instead of adding the money to the bank a second time.
        """
        self.ensure_one()
        accounts = self._get_journal_inbound_outstanding_payment_accounts()
        return (
            accounts.filtered("reconcile")[:1]
            or self.company_id.account_journal_payment_debit_account_id
        )
