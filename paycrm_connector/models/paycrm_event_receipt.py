"""Payment receipts, emailed after the payment is booked, not while.

Rendering and posting an email costs more than booking the payment itself and
may fail for reasons of its own (a template edited wrong): the booking marks
the event, and a cron triggered at once sends the receipts in its own
transaction, so a payment is on the invoice within a second and a receipt
problem never holds it back.
"""

import logging

from odoo import _, api, fields, models
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)

RECEIPT_CRON = "paycrm_connector.ir_cron_paycrm_send_receipts"
RECEIPT_TEMPLATE = "paycrm_connector.mail_template_paycrm_payment_receipt"


class PaycrmEvent(models.Model):
    _inherit = "paycrm.event"  # pylint: disable=consider-merging-classes-inherited

    receipt_pending = fields.Boolean(
        readonly=True,
        copy=False,
        index=True,
        help="Its payment is booked; the customer's receipt email is on its way.",
    )

    def _paycrm_wants_receipt(self, invoice):
        """Whether a booked payment of ``invoice`` gets a receipt email."""
        return bool(invoice.partner_id.email) and bool(
            self.env.ref(RECEIPT_TEMPLATE, raise_if_not_found=False)
        )

    @api.model
    def _paycrm_trigger_receipts(self):
        self.env.ref(RECEIPT_CRON).sudo()._trigger()

    @api.model
    def _cron_paycrm_send_receipts(self, limit=200):
        events = self.search([("receipt_pending", "=", True)], limit=limit)
        template = self.env.ref(RECEIPT_TEMPLATE, raise_if_not_found=False)
        for event in events:
            invoice = event.invoice_id
            if template and invoice.partner_id.email:
                try:
                    with self.env.cr.savepoint():
                        event._paycrm_send_receipt(template)
                except Exception as exc:  # noqa: BLE001 - one bad receipt stops no other
                    _logger.exception("paycrm receipt for event %s failed", event.id)
                    # Staff see it where they look: on the invoice.
                    invoice._message_log(
                        body=_(
                            "The payment receipt could not be emailed: %(error)s",
                            error=exc,
                        )
                    )
            event.receipt_pending = False
        if len(events) == limit:
            self._paycrm_trigger_receipts()

    def _paycrm_send_receipt(self, template):
        """Email the customer a receipt for this booked payment (the thank-you
        page promises one), logged in the invoice's chatter."""
        self.ensure_one()
        invoice = self.invoice_id
        # Signed as the company when it has an address, else as the
        # salesperson; Odoo refuses to send from an author without one.
        author = invoice.company_id.partner_id
        if not author.email:
            author = invoice.invoice_user_id.partner_id
        values = template.with_context(
            paycrm_receipt_amount=format_amount(
                self.env, self.amount, invoice.currency_id
            ),
            paycrm_receipt_gateway=self.gateway_id.name,
        )._generate_template(invoice.ids, ("subject", "body_html", "email_from"))[
            invoice.id
        ]
        invoice.message_post(
            body=values.get("body_html"),
            subject=values.get("subject"),
            email_from=values.get("email_from") or author.email_formatted,
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            # To the customer, follower of the invoice or not.
            partner_ids=invoice.partner_id.ids,
        )
