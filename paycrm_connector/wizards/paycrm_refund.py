import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..gateways import GatewayError, money

# The event of a booked payment, reconciled with the invoice it names.
PAYMENT_DOMAIN = [
    ("booking_key", "=like", "pay:%"),
    ("state", "=", "done"),
    ("move_id", "!=", False),
]


class PaycrmRefund(models.TransientModel):
    _name = "paycrm.refund"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Refund an Invoice through its Gateway"
    _check_company_auto = True
    _paycrm_guarded_fields = ("invoice_id", "payment_event_id")

    invoice_id = fields.Many2one("account.move", required=True, readonly=True)
    company_id = fields.Many2one(related="invoice_id.company_id")
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    payment_event_id = fields.Many2one(
        "paycrm.event",
        string="Payment",
        required=True,
        check_company=True,
        domain="[('invoice_id', '=', invoice_id), ('booking_key', '=like', 'pay:%'), "
        "('state', '=', 'done'), ('move_id', '!=', False)]",
    )
    refundable = fields.Monetary(
        compute="_compute_refundable",
        help="What the chosen payment still holds: its amount less every refund "
        "of it stored so far, those made in the gateway's dashboard included.",
    )
    amount = fields.Monetary(required=True)
    # One key per wizard: a double click or a retry cannot refund twice.
    idempotency_key = fields.Char(
        default=lambda self: f"paycrm-refund-{secrets.token_hex(12)}", readonly=True
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        invoice = self.env["account.move"].browse(values.get("invoice_id"))
        for key, value in self._paycrm_payment_defaults(invoice).items():
            values.setdefault(key, value)
        return values

    @api.model_create_multi
    def create(self, vals_list):
        # The invoice comes in the values or in the context (the invoice's
        # button): either way the wizard proposes the same payment and amount.
        for vals in vals_list:
            if vals.get("payment_event_id"):
                continue
            invoice = self.env["account.move"].browse(
                vals.get("invoice_id") or self.env.context.get("default_invoice_id")
            )
            if not invoice:
                continue  # the ORM says the invoice is required
            defaults = self._paycrm_payment_defaults(invoice)
            if not defaults:
                raise UserError(
                    _(
                        "Invoice %(invoice)s has no gateway payment to refund.",
                        invoice=invoice.display_name,
                    )
                )
            for key, value in defaults.items():
                vals.setdefault(key, value)
        return super().create(vals_list)

    @api.model
    def _paycrm_payment_defaults(self, invoice):
        """What the wizard proposes for ``invoice``: its first booked gateway
        payment, and all that payment still holds (empty when it has none)."""
        payment = self._paycrm_payments(invoice)[:1]
        if not payment:
            return {}
        left = self.env["paycrm.booking"]._paycrm_refund_left(payment)
        return {"payment_event_id": payment.id, "amount": left}

    @api.depends("payment_event_id", "invoice_id")
    def _compute_refundable(self):
        for wizard in self:
            payment = wizard.payment_event_id
            wizard.refundable = (
                self.env["paycrm.booking"]._paycrm_refund_left(payment)
                if payment in self._paycrm_payments(wizard.invoice_id)
                else 0.0
            )

    @api.model
    def _paycrm_payments(self, invoice):
        """The booked gateway payments reconciled with ``invoice``."""
        if not invoice:
            return self.env["paycrm.event"]
        events = self.env["paycrm.event"].search(
            [("invoice_id", "=", invoice.id), *PAYMENT_DOMAIN], order="id"
        )
        receivable = self.env["paycrm.booking"]._paycrm_receivable(invoice)
        reconciled = (
            receivable.matched_credit_ids.credit_move_id
            | receivable.matched_debit_ids.debit_move_id
        ).move_id
        return events.filtered(lambda event: event.move_id in reconciled)

    def _paycrm_check(self):
        """The checks the view's domain cannot enforce: any id may come by RPC."""
        self._paycrm_guard()
        invoice, payment = self.invoice_id, self.payment_event_id
        if payment not in self._paycrm_payments(invoice):
            raise UserError(
                _(
                    "%(payment)s is not a gateway payment reconciled with "
                    "invoice %(invoice)s: choose one of this invoice's payments.",
                    payment=payment.display_name,
                    invoice=invoice.display_name,
                )
            )
        currency = self.currency_id
        if currency.compare_amounts(self.amount, 0) <= 0:
            raise UserError(_("Enter a positive amount to refund."))
        left = self.env["paycrm.booking"]._paycrm_refund_left(payment)
        if currency.compare_amounts(self.amount, left) > 0:
            raise UserError(
                _(
                    "%(payment)s holds %(left)s %(cur)s after its earlier "
                    "refunds: enter at most that amount.",
                    payment=payment.display_name,
                    left=left,
                    cur=currency.name,
                )
            )

    def action_paycrm_refund(self):
        self.ensure_one()
        self._paycrm_check()
        currency = self.currency_id
        payment = self.payment_event_id
        gateway = payment.gateway_id
        adapter = gateway._paycrm_adapter()
        exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        minor = money.to_minor(self.amount, exponent)
        metadata = adapter.refund_metadata(payment._paycrm_json())
        try:
            refund_ref = adapter.refund(
                payment.payment_ref,
                minor,
                self.idempotency_key,
                metadata=metadata,
                currency=currency.name,
            )
        except GatewayError as exc:
            raise UserError(
                _("The gateway refused the refund: %(error)s", error=str(exc))
            ) from exc
        webhook = adapter.refund_webhook(
            refund_ref, payment.payment_ref, minor, currency.name, metadata
        )
        if webhook:
            # A gateway without servers (demo) hands its webhook over: it goes
            # through the same intake as a posted one.
            self.env["paycrm.event"]._paycrm_intake(gateway, *webhook)
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
