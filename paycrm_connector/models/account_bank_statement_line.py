from odoo import _, api, models
from odoo.fields import Command


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._paycrm_match_payouts()
        return lines

    def _paycrm_match_payouts(self):
        """Reconcile incoming statement lines with the gateway payouts they are.

        A payout is booked from its webhook as clearing -> the bank journal's
        outstanding receipts; when the bank statement (imported or synced)
        brings the money, the line is matched to that open payout: by the
        payout's reference in the line's label when there is one, else when
        exactly one open payout of the bank journal has the same amount.
        """
        incoming = self.filtered(
            lambda line: line.amount > 0 and not line.is_reconciled
        )
        # Once per journal, not per line: a statement import brings many.
        for journal, lines in incoming.grouped("journal_id").items():
            gateways = journal._paycrm_payout_gateways()
            transit = gateways and journal._paycrm_payout_transit_account()
            if transit:
                for st_line in lines:
                    st_line._paycrm_match_payout(gateways, transit)

    def _paycrm_match_payout(self, gateways, transit):
        self.ensure_one()
        foreign = self.foreign_currency_id
        currency = foreign or self.currency_id
        amount = self.amount_currency if foreign else self.amount
        candidates = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("journal_id", "in", gateways.journal_id.ids),
                    ("account_id", "=", transit.id),
                    ("reconciled", "=", False),
                    ("parent_state", "=", "posted"),
                    ("currency_id", "=", currency.id),
                    ("amount_currency", "=", currency.round(amount)),
                ]
            )
        )
        if not candidates:
            return
        label = f"{self.payment_ref or ''} {self.ref or ''}"
        payouts = (
            self.env["paycrm.event"]
            .sudo()
            .search(
                [
                    ("move_id", "in", candidates.move_id.ids),
                    ("kind", "=", "payout_paid"),
                ]
            )
        )
        named = payouts.filtered(lambda e: e.object_ref and e.object_ref in label)
        if named:
            match = candidates.filtered(lambda line: line.move_id == named[0].move_id)
        elif len(candidates) == 1:
            match = candidates
        else:
            return  # several payouts of that amount: left to the accountant
        self._paycrm_reconcile_with(match.with_env(self.env))

    def _paycrm_reconcile_with(self, counterpart):
        """Turn the line's suspense item into ``counterpart``'s account and
        reconcile the two, as Odoo's reconciliation does."""
        self.ensure_one()
        _liquidity, suspense, _other = self._seek_for_lines()
        if len(suspense) != 1:
            return
        # skip_readonly_check: Odoo's own reconciliation rewrites the posted
        # statement entry's suspense line the same way.
        self.move_id.with_context(skip_readonly_check=True).write(
            {
                "line_ids": [
                    Command.update(
                        suspense.id,
                        {
                            "account_id": counterpart.account_id.id,
                            "partner_id": counterpart.partner_id.id,
                        },
                    )
                ]
            }
        )
        (suspense + counterpart).reconcile()
        self.move_id._message_log(
            body=_(
                "Matched with gateway payout %(entry)s.",
                entry=counterpart.move_id.display_name,
            )
        )
