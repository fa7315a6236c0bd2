"""*Charge Saved Method*: the confirmation that shows, per invoice, the saved
method and the amount about to be charged (or why it will not be)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..models.account_move_autopay import AUTOPAY_GROUP


class PaycrmAutopayCharge(models.TransientModel):
    _name = "paycrm.autopay.charge"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Charge Saved Payment Method"
    _paycrm_guarded_fields = ("invoice_ids",)

    invoice_ids = fields.Many2many("account.move", string="Invoices", required=True)
    summary = fields.Text(
        string="To Charge",
        compute="_compute_summary",
        help="Per invoice: the saved method and the amount charged now.",
    )
    refusals = fields.Text(string="Not Charged", compute="_compute_summary")

    @api.depends("invoice_ids")
    def _compute_summary(self):
        autopay = self.env["paycrm.autopay"]
        today = fields.Date.context_today(self)
        for wizard in self:
            lines, refusals = [], []
            for invoice in wizard.invoice_ids:
                method = autopay._paycrm_autopay_method(invoice)
                _plan, reason = autopay._paycrm_autopay_plan(
                    invoice, today, manual=True, method=method
                )
                if reason:
                    refusals.append(f"{invoice.display_name}: {reason}")
                    continue
                lines.append(
                    _(
                        "%(invoice)s: %(amount)s on %(method)s",
                        invoice=invoice.display_name,
                        amount=format_amount(
                            self.env, invoice.amount_residual, invoice.currency_id
                        ),
                        method=method.display_name,
                    )
                )
            wizard.summary = "\n".join(lines) or False
            wizard.refusals = "\n".join(refusals) or False

    def action_charge(self):
        self.ensure_one()
        self._paycrm_guard()
        if not self.env.user.has_group(AUTOPAY_GROUP):
            raise UserError(
                _("Only users of the group Charge saved payment methods can do this.")
            )
        attempts = self.env["paycrm.autopay"]._paycrm_autopay_charge_now(
            self.invoice_ids
        )
        states = dict(
            self.env["paycrm.autopay.attempt"]
            ._fields["state"]
            ._description_selection(self.env)
        )
        message = "\n".join(
            _(
                "%(invoice)s: %(state)s",
                invoice=attempt.invoice_id.display_name,
                state=states[attempt.state],
            )
            for attempt in attempts
        )
        ok = all(a.state in ("succeeded", "processing") for a in attempts)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Charge Saved Method"),
                "message": message,
                "type": "success" if ok else "warning",
                "sticky": not ok,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
