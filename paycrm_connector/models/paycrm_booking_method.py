"""Saved payment methods and payments in flight: the booking of
``method_saved`` / ``method_removed``, of a payment that asked to save its
method, and the invoice's *Payment pending* flag (``payment_pending`` sets it,
the payment's booking or its ``payment_failed`` clears it)."""

import dataclasses
import logging
from datetime import datetime, timezone

from odoo import _, fields, models

from ..gateways import GatewayError, GatewayUnreachable
from .booking_plan import Booking
from .paycrm_method_setup import META_PARTNER_ID, META_SETUP_SESSION

_logger = logging.getLogger(__name__)


# One handler concern of paycrm.booking (see paycrm_booking.py HANDLERS).
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------ methods

    def _paycrm_method_partner(self, event, norm, invoice=None):
        """The customer a saved method belongs to: the invoice's, else the
        gateway customer's, else the one the setup session named."""
        partner = self.env["res.partner"]
        if invoice:
            return invoice.commercial_partner_id
        if norm.customer_ref:
            ref = self.env["paycrm.customer.ref"].search(
                [
                    ("gateway_id", "=", event.gateway_id.id),
                    ("reference", "=", norm.customer_ref),
                ],
                limit=1,
            )
            if ref:
                return ref.partner_id.commercial_partner_id
        meta = norm.extra.get("metadata") or {}
        if meta.get("paycrm_db", self.env.cr.dbname) != self.env.cr.dbname:
            return partner
        try:
            partner_id = int(meta.get(META_PARTNER_ID) or 0)
        except (TypeError, ValueError):
            return partner
        partner = partner.browse(partner_id).exists()
        if partner.company_id and partner.company_id != event.company_id:
            return self.env["res.partner"]
        return partner.commercial_partner_id

    def _paycrm_save_method(self, event, norm, adapter, partner):
        """Ask the gateway what ``norm.method_ref`` is and store it for
        ``partner``; return the method. An unreachable gateway retries the
        event; another refusal is returned as a message."""
        try:
            saved = adapter.get_saved_method(norm.method_ref)
        except GatewayUnreachable:
            raise
        except GatewayError as exc:
            return None, _(
                "The payment method %(ref)s could not be read from the gateway: "
                "%(reason)s",
                ref=norm.method_ref,
                reason=str(exc),
            )
        if norm.customer_ref and not saved.customer_ref:
            saved = dataclasses.replace(saved, customer_ref=norm.customer_ref)
        model = self.env["paycrm.payment.method"]
        consent = model._paycrm_consent_text(event.company_id, saved.method_type)
        method = model._paycrm_upsert_from_gateway(
            event.gateway_id, partner, saved, consent
        )
        return method, None

    def _paycrm_book_method_saved(self, event, norm, adapter):
        if not norm.method_ref:
            return Booking(
                event,
                state="ignored",
                message=_("No payment method in the event."),
            )
        partner = self._paycrm_method_partner(event, norm)
        if not partner:
            return self._paycrm_unmatched(
                event,
                _(
                    "No customer of this company for gateway customer %(ref)s.",
                    ref=norm.customer_ref or "-",
                ),
            )
        method, error = self._paycrm_save_method(event, norm, adapter, partner)
        if error:
            return Booking(event, state="failed", message=error)
        session = norm.session_ref or (norm.extra.get("metadata") or {}).get(
            META_SETUP_SESSION
        )
        if session:
            self.env["paycrm.method.setup"]._paycrm_mark_done(
                event.gateway_id, session, method
            )
        return Booking(
            event,
            message=_("Saved %(method)s.", method=method.display_name),
        )

    def _paycrm_book_method_removed(self, event, norm, adapter):
        ref = norm.method_ref or norm.object_ref
        methods = (
            self.env["paycrm.payment.method"]
            .with_context(active_test=False)
            .search(
                [("gateway_id", "=", event.gateway_id.id), ("method_ref", "=", ref)]
            )
        )
        if not methods:
            return Booking(
                event, state="ignored", message=_("Payment method not saved here.")
            )
        # Removed at the gateway already: archived without asking it again.
        methods.filtered("active").write({"active": False})
        return Booking(
            event, message=_("Removed %(method)s.", method=methods[:1].display_name)
        )

    def _paycrm_book_payment(self, event, norm, adapter):
        booking = super()._paycrm_book_payment(event, norm, adapter)
        invoice = booking.invoice
        if booking.paid and invoice:
            invoice._paycrm_clear_pending()
        if norm.save_method and norm.method_ref and booking.state == "done":
            partner = self._paycrm_method_partner(event, norm, invoice)
            if partner:
                method, error = self._paycrm_save_method(event, norm, adapter, partner)
                note = error or _(
                    "The customer saved %(method)s for future invoices.",
                    method=method.display_name,
                )
                if invoice:
                    booking.note = f"{booking.note} {note}" if booking.note else note
        return booking

    # ----------------------------------------------------- payment pending

    def _paycrm_book_payment_pending(self, event, norm, adapter):
        booking = self._paycrm_book_no_money(event, norm, adapter)
        invoice = booking.invoice
        if (
            not invoice
            or invoice.move_type != "out_invoice"
            or invoice.state != "posted"
            or invoice.currency_id.compare_amounts(invoice.amount_residual, 0) <= 0
        ):
            return booking
        if self._paycrm_payment_event(event, norm) or self._paycrm_failed_before(
            event, norm
        ):
            # Out of order: the payment's outcome is booked already.
            return booking
        currency = invoice.currency_id
        amount = invoice.amount_residual
        if norm.currency == currency.name and norm.amount_minor:
            amount = self._paycrm_amount(norm, currency, adapter)
        since = fields.Datetime.now()
        if norm.created:
            since = datetime.fromtimestamp(norm.created, tz=timezone.utc).replace(
                tzinfo=None
            )
        invoice._paycrm_set_pending(
            amount,
            norm.payment_method or "",
            norm.payment_ref or norm.object_ref,
            since,
        )
        booking.note = _(
            "Payment pending: %(method)s in progress, expected by %(date)s.",
            method=invoice._paycrm_pending_method_label() or _("payment"),
            date=fields.Date.to_string(invoice.sudo().paycrm_pending_expected),
        )
        return booking

    def _paycrm_failed_before(self, event, norm):
        ref = norm.payment_ref or norm.object_ref
        if not ref:
            return False
        return bool(
            self.env["paycrm.event"].search_count(
                [
                    ("gateway_id", "=", event.gateway_id.id),
                    ("kind", "=", "payment_failed"),
                    ("state", "=", "done"),
                    ("payment_ref", "=", ref),
                    ("id", "!=", event.id),
                ],
                limit=1,
            )
        )

    def _paycrm_book_payment_failed(self, event, norm, adapter):
        booking = self._paycrm_book_no_money(event, norm, adapter)
        invoice = booking.invoice.sudo()
        ref = norm.payment_ref or norm.object_ref
        if not invoice.paycrm_payment_pending or (
            invoice.paycrm_pending_ref and ref and invoice.paycrm_pending_ref != ref
        ):
            return booking
        method = invoice._paycrm_pending_method_label() or _("payment")
        amount = invoice.paycrm_pending_amount
        invoice._paycrm_clear_pending()
        message = _(
            "The %(method)s of %(amount)s %(currency)s for %(invoice)s failed "
            "(%(reason)s): the invoice is due again and reminders resume.",
            method=method,
            amount=amount,
            currency=invoice.currency_id.name,
            invoice=invoice.name,
            reason=norm.decline_code or norm.status or _("no reason given"),
        )
        booking.note = message
        # sudo: alerts are company records the processing user may not create.
        self.env["paycrm.alert"].sudo()._paycrm_raise(
            {
                "company_id": invoice.company_id.id,
                "kind": "debit_failed",
                "partner_id": invoice.commercial_partner_id.id,
                "invoice_id": invoice.id,
                "event_id": event.id,
                "currency_id": invoice.currency_id.id,
                "amount": amount,
                "message": message,
                "window_key": f"debit_failed:{event.gateway_id.id}:{ref or event.id}",
            }
        )
        return booking
