from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    # Every payment, refund or credit note settling an invoice goes through a
    # partial: it is the one hook that sees them all, whatever their origin.
    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._paycrm_touch_profiles()
        # Money received (not a credit note) on a customer invoice: check it
        # against the customer's usual payments before the transaction commits.
        received = partials.filtered(
            lambda p: (
                p.debit_move_id.move_id.move_type == "out_invoice"
                and p.credit_move_id.move_id.move_type != "out_refund"
            )
        )
        self.env["paycrm.alert"]._paycrm_alert_touch(
            "pay_moves", received.credit_move_id.move_id.ids
        )
        # Settled by whatever means (a manual payment, a credit note): its open
        # checkout sessions must take no more money. Checked before the commit,
        # once per transaction, when Odoo has settled the payment state.
        settled = (partials.debit_move_id | partials.credit_move_id).move_id.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        if settled:
            data = self.env.cr.precommit.data
            if "paycrm.settled_invoices" not in data:
                data["paycrm.settled_invoices"] = set()
                self.env.cr.precommit.add(self._paycrm_close_settled_sessions)
            data["paycrm.settled_invoices"].update(settled.ids)
        return partials

    def _paycrm_close_settled_sessions(self):
        ids = self.env.cr.precommit.data.pop("paycrm.settled_invoices", set())
        # sudo: whoever reconciles needs no right on the technical link table.
        self.env["paycrm.link"].sudo()._paycrm_close_outdated_sessions(
            self.env["account.move"].browse(ids)
        )

    def unlink(self):
        self._paycrm_touch_profiles()
        return super().unlink()

    def _paycrm_touch_profiles(self):
        lines = self.debit_move_id | self.credit_move_id
        receivable = lines.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.env["paycrm.profile"]._paycrm_profile_touch(
            receivable.move_id.commercial_partner_id.ids
        )
