"""Refunds: money back to the customer out of the gateway's clearing account,
and refunds the gateway could not make after all."""

from odoo import _, api, models

from ..gateways import money
from .booking_plan import Booking, Entry


# One handler concern of paycrm.booking (see paycrm_booking.py HANDLERS).
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    def _paycrm_book_refund(self, event, norm, adapter):
        payment, answer = self._paycrm_payment_or_retry(event, norm)
        if answer:
            return answer
        invoice = payment.invoice_id
        currency = invoice.currency_id
        booking = Booking(
            event,
            invoice=invoice,
            currency=currency,
            payment_ref=payment.payment_ref,
        )
        if not norm.object_ref:
            booking.message = _("Booked by the refund's own events.")
            return booking
        key = f"refund:{norm.object_ref}"
        earlier = self._paycrm_claim(event, key)
        if earlier:
            booking.message = _(
                "Already booked by event %(ref)s.", ref=earlier.external_id
            )
            return booking
        amount = self._paycrm_amount(norm, currency, adapter)
        left = self._paycrm_refund_left(payment, exclude=event.ids)
        if currency.compare_amounts(amount, left) > 0:
            # The gateway never refunds more than it took: a refund that
            # would is someone else's, or a fault; staff decide.
            return self._paycrm_unmatched(
                event,
                _(
                    "Refund %(ref)s of %(amount)s %(cur)s is more than payment "
                    "%(payment)s still holds (%(left)s %(cur)s): not booked. "
                    "Check it at the gateway.",
                    ref=norm.object_ref,
                    amount=amount,
                    cur=currency.name,
                    payment=payment.payment_ref,
                    left=left,
                ),
            )
        settled = norm
        if payment._paycrm_settles_apart():
            settled = adapter.settle_event(norm)
        settle, gross, _fee, _fee_here = self._paycrm_settlement(
            settled, currency, adapter, amount, payment
        )
        partner = invoice.commercial_partner_id
        booking.entries.append(
            Entry(
                _("Refund %(ref)s", ref=settled.object_ref),
                self._paycrm_money_lines(
                    event,
                    self._paycrm_receivable(invoice)[:1].account_id,
                    amount,
                    settle,
                    gross,
                    money_in=False,
                ),
                currency,
                partner,
            )
        )
        credit_notes = invoice.reversal_move_ids.filtered(
            lambda m: (
                m.state == "posted" and m.payment_state not in ("paid", "reversed")
            )
        )
        open_items = self._paycrm_receivable(credit_notes).filtered(
            lambda line: not line.reconciled
        )
        if open_items:
            booking.reconcile_with = open_items
        else:
            booking.activities.append(
                (
                    _("Refund without credit note"),
                    _(
                        "%(amount)s %(cur)s refunded through the gateway: issue a "
                        "credit note or match the open item.",
                        amount=amount,
                        cur=currency.name,
                    ),
                )
            )
        booking.booking_key = key
        booking.amount = amount
        booking.received = -amount
        booking.settle_currency = settle
        booking.settle_amount = gross
        booking.settle_fee = 0.0
        fee_minor = norm.extra.get("fee_refunded_minor") or 0
        if fee_minor > 0:
            # The gateway hands its fee back with the refund (PayPal): booked
            # once, with the refund itself.
            fee = self._paycrm_amount(norm, currency, adapter, fee_minor)
            booking.entries.append(
                Entry(
                    _("Fee returned on refund %(ref)s", ref=norm.object_ref),
                    self._paycrm_fee_lines(event, fee, currency, back=True),
                    currency,
                    partner,
                )
            )
            booking.fees = -fee
            booking.fee = -fee
            booking.settle_fee = -fee
        return booking

    @api.model
    def _paycrm_refund_left(self, payment, exclude=()):
        """What the booked ``payment`` event still holds, in its currency,
        after its refunds: what the refund wizard offers at most, and what a
        refund from the gateway may take before it is held for review."""
        return payment.currency_id.round(
            payment.amount - self._paycrm_refunded(payment, exclude)
        )

    @api.model
    def _paycrm_refunded(self, payment, exclude=()):
        """Refunds of ``payment`` stored so far: those booked (less the ones
        the gateway reversed) by their amount, those still waiting for the
        processor read from what the gateway sent (but ``exclude``, the
        events being booked now)."""
        events = self.env["paycrm.event"]
        gateway = payment.gateway_id
        refs = [ref for ref in (payment.payment_ref, payment.charge_ref) if ref]
        booked = events.search(
            [
                ("gateway_id", "=", gateway.id),
                ("booking_key", "=like", "refund:%"),
                "|",
                ("payment_ref", "in", refs),
                ("charge_ref", "in", refs),
            ]
        )
        reversed_keys = set(
            events.search(
                [
                    ("gateway_id", "=", gateway.id),
                    (
                        "booking_key",
                        "in",
                        [f"refund-back:{ref}" for ref in booked.mapped("object_ref")],
                    ),
                ]
            ).mapped("booking_key")
        )
        total = sum(
            event.amount
            for event in booked
            if f"refund-back:{event.object_ref}" not in reversed_keys
        )
        waiting = events.search(
            [
                ("gateway_id", "=", gateway.id),
                ("kind", "=", "refund_succeeded"),
                ("state", "in", ("received", "failed")),
                ("id", "not in", list(exclude)),
            ]
        )
        if not waiting:
            return total
        adapter = gateway._paycrm_adapter()
        currency = payment.currency_id
        exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        seen = set(booked.mapped("object_ref"))
        for event in waiting:
            norm = adapter.parse_event(event._paycrm_json())
            if norm.object_ref in seen or not (
                {norm.payment_ref, norm.extra.get("charge")} & set(refs)
            ):
                continue
            seen.add(norm.object_ref)
            total += float(money.from_minor(norm.amount_minor, exponent))
        return total

    def _paycrm_book_refund_failed(self, event, norm, adapter):
        booked = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("booking_key", "=", f"refund:{norm.object_ref}"),
            ],
            limit=1,
        )
        if not booked:
            return Booking(event, message=_("Nothing was booked for this refund."))
        booking = Booking(event, invoice=booked.invoice_id)
        key = f"refund-back:{norm.object_ref}"
        if self._paycrm_claim(event, key):
            return booking
        # The refund's entry is reversed: the money is the customer's payment again.
        booking.reverse = booked.move_id
        booking.received = booked.amount
        booking.booking_key = key
        return booking
