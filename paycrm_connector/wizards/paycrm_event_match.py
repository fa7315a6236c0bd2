from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..gateways import money


class PaycrmEventMatch(models.TransientModel):
    _name = "paycrm.event.match"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Match a Gateway Event to an Invoice"
    _check_company_auto = True
    _paycrm_guarded_fields = ("event_id", "invoice_id")

    event_id = fields.Many2one("paycrm.event", required=True, readonly=True)
    company_id = fields.Many2one(related="event_id.company_id")
    invoice_id = fields.Many2one(
        "account.move",
        required=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('company_id', '=', company_id), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount = fields.Monetary(compute="_compute_amount", currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", compute="_compute_amount")

    @api.depends("event_id")
    def _compute_amount(self):
        # The amount comes from the payload, read as superuser: only for
        # wizards the user may use (a wizard of another user, or one created
        # before the user lost access, shows nothing).
        self._paycrm_guard()
        for wizard in self:
            norm = wizard._paycrm_norm()
            currency = self.env["res.currency"].search(
                [("name", "=", norm.currency)], limit=1
            )
            wizard.currency_id = currency
            exponent = wizard.event_id.gateway_id._paycrm_adapter().currency_exponent(
                currency.name or "", currency.decimal_places or 2
            )
            wizard.amount = float(money.from_minor(norm.amount_minor, exponent))

    def _paycrm_norm(self):
        event = self.event_id
        return event.gateway_id._paycrm_adapter().parse_event(event._paycrm_json())

    def action_paycrm_match(self):
        self.ensure_one()
        self._paycrm_guard()
        event = self.event_id
        if event.state not in ("unmatched", "ignored", "failed"):
            raise UserError(
                _("Only unmatched, ignored or failed events can be matched.")
            )
        norm = self._paycrm_norm()
        if norm.kind != "payment_succeeded":
            raise UserError(_("Only payment events can be matched to an invoice."))
        invoice = self.invoice_id
        if invoice.move_type != "out_invoice" or invoice.state != "posted":
            raise UserError(
                _(
                    "%(invoice)s is not a posted customer invoice: choose one.",
                    invoice=invoice.display_name,
                )
            )
        if self.currency_id != invoice.currency_id:
            raise UserError(
                _(
                    "The payment is in %(got)s, the invoice in %(want)s: choose an "
                    "invoice in the payment's currency.",
                    got=norm.currency,
                    want=invoice.currency_id.name,
                )
            )
        currency = invoice.currency_id
        if currency.compare_amounts(self.amount, 0) <= 0 or (
            currency.compare_amounts(self.amount, invoice.amount_total) > 0
        ):
            # As the processor's own check: a payment is positive and no larger
            # than the invoice it pays (it is booked as that invoice's payment).
            raise UserError(
                _(
                    "A payment of %(amount)s cannot pay %(invoice)s (total "
                    "%(total)s): choose an invoice it fits, or book it by hand.",
                    amount=format_amount(self.env, self.amount, currency),
                    invoice=invoice.display_name,
                    total=format_amount(self.env, invoice.amount_total, currency),
                )
            )
        adapter = event.gateway_id._paycrm_adapter()
        with self.env.cr.savepoint():
            plan = self.env["paycrm.booking"]._paycrm_plan_payment(
                event, norm, adapter, invoice, self.amount
            )
            plan.kind = norm.kind
            plan.payment_ref = norm.payment_ref or False
            # Written done: the reason it was unmatched no longer holds.
            self.env["paycrm.booking.poster"]._paycrm_post([plan])
        event.message_post(
            body=_("Matched by hand to invoice %(name)s.", name=invoice.name)
        )
        return {"type": "ir.actions.act_window_close"}
