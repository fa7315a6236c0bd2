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
        return partials

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
