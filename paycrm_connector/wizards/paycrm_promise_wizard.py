from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PaycrmPromiseWizard(models.TransientModel):
    _name = "paycrm.promise.wizard"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Promise to Pay"
    _paycrm_guarded_fields = ("partner_id", "invoice_ids")

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        domain="[('commercial_partner_id', '=', partner_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    promise_date = fields.Date(string="Promised Date", required=True)
    amount = fields.Monetary(string="Promised Amount", currency_field="currency_id")
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    note = fields.Char()

    @api.model
    def _paycrm_open_for(self, invoices):
        """The Promise to Pay dialog for ``invoices`` (of one customer)."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Promise to Pay"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": invoices[:1].commercial_partner_id.id,
                "default_invoice_ids": invoices.ids,
            },
        }

    @api.onchange("invoice_ids")
    def _onchange_invoice_ids(self):
        if self.invoice_ids and not self.amount:
            self.amount = sum(self.invoice_ids.mapped("amount_residual_signed"))

    def action_confirm(self):
        self.ensure_one()
        self._paycrm_guard()
        if not self.invoice_ids:
            raise UserError(_("Select the invoices the customer promised to pay."))
        if self.promise_date < fields.Date.context_today(self):
            raise UserError(_("The promised date is in the past: enter a future date."))
        self.invoice_ids.write(
            {
                "paycrm_promise_date": self.promise_date,
                "paycrm_promise_amount": self.amount,
            }
        )
        body = _(
            "Promise to pay %(amount)s by %(date)s for %(invoices)s. %(note)s",
            amount=self.amount,
            date=fields.Date.to_string(self.promise_date),
            invoices=", ".join(self.invoice_ids.mapped("name")),
            note=self.note or "",
        )
        self.partner_id.message_post(body=body)
        self.invoice_ids._message_log_batch({inv.id: body for inv in self.invoice_ids})
        return {"type": "ir.actions.act_window_close"}
