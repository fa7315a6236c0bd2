"""Invoices and auto-pay: their attempts, and the *Charge Saved Method*
button (behaviour in paycrm.autopay)."""

from odoo import _, fields, models
from odoo.exceptions import UserError

AUTOPAY_GROUP = "paycrm_connector.group_paycrm_autopay"


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    paycrm_autopay_attempt_ids = fields.One2many(
        "paycrm.autopay.attempt",
        "invoice_id",
        string="Auto-pay Attempts",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )

    def action_paycrm_autopay_charge(self):
        """The confirmation dialog of *Charge Saved Method* (form and list)."""
        if not self.env.user.has_group(AUTOPAY_GROUP):
            raise UserError(
                _("Only users of the group Charge saved payment methods can do this.")
            )
        if not self:
            raise UserError(_("Select the invoices to charge."))
        wizard = self.env["paycrm.autopay.charge"].create(
            {"invoice_ids": [fields.Command.set(self.ids)]}
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Charge Saved Method"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }


class PaycrmReminderPlanner(models.AbstractModel):
    """Reminders wait while auto-pay will still charge the invoice."""

    _inherit = "paycrm.reminder.planner"

    def _paycrm_skip_reason(self, invoice, today, policy):
        reason = super()._paycrm_skip_reason(invoice, today, policy)
        if reason:
            return reason
        if self.env["paycrm.autopay"].sudo()._paycrm_autopay_expected(invoice):
            return _("Auto-pay charges the saved payment method")
        return False
