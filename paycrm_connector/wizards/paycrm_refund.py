import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..gateways import GatewayError, money


class PaycrmRefund(models.TransientModel):
    _name = "paycrm.refund"
    _description = "Refund an Invoice through its Gateway"

    invoice_id = fields.Many2one("account.move", required=True, readonly=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    payment_event_id = fields.Many2one(
        "paycrm.event",
        string="Payment",
        required=True,
        domain="[('invoice_id', '=', invoice_id), ('booking_key', '=like', 'pay:%')]",
    )
    refundable = fields.Monetary(compute="_compute_refundable")
    amount = fields.Monetary(required=True)
    # One key per wizard: a double click or a retry cannot refund twice.
    idempotency_key = fields.Char(
        default=lambda self: f"paycrm-refund-{secrets.token_hex(12)}", readonly=True
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        invoice = self.env["account.move"].browse(values.get("invoice_id"))
        payment = invoice.paycrm_event_ids.filtered(
            lambda e: (e.booking_key or "").startswith("pay:")
        )[:1]
        if payment:
            values.setdefault("payment_event_id", payment.id)
            values.setdefault("amount", invoice.paycrm_amount_received)
        return values

    @api.depends("invoice_id.paycrm_amount_received")
    def _compute_refundable(self):
        for wizard in self:
            wizard.refundable = wizard.invoice_id.paycrm_amount_received

    def action_paycrm_refund(self):
        self.ensure_one()
        currency = self.currency_id
        if currency.compare_amounts(self.amount, 0) <= 0:
            raise UserError(_("Enter a positive amount to refund."))
        if currency.compare_amounts(self.amount, self.refundable) > 0:
            raise UserError(
                _(
                    "At most %(max)s %(cur)s was received through the gateway.",
                    max=self.refundable,
                    cur=currency.name,
                )
            )
        payment = self.payment_event_id
        gateway = payment.gateway_id
        adapter = gateway._paycrm_adapter()
        exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        minor = money.to_minor(self.amount, exponent)
        try:
            refund_ref = adapter.refund(
                payment.payment_ref,
                minor,
                self.idempotency_key,
                metadata=payment._paycrm_json()["data"]["object"].get("metadata"),
            )
        except GatewayError as exc:
            raise UserError(
                _("The gateway refused the refund: %(error)s", error=exc)
            ) from exc
        if gateway.provider == "demo":
            # The demo gateway has no servers to send the webhook: store the
            # event it would send, through the same intake as a real one.
            self.env["paycrm.event"]._paycrm_store_demo_refund(
                gateway, payment, refund_ref, minor, currency
            )
        self.invoice_id.message_post(
            body=_(
                "Refund of %(amount)s %(cur)s requested at the gateway (%(ref)s); "
                "it is booked when the gateway confirms it.",
                amount=self.amount,
                cur=currency.name,
                ref=refund_ref,
            )
        )
        return {"type": "ir.actions.act_window_close"}
