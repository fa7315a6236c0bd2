"""Refunds: money back to the customer out of the gateway's clearing account,
and refunds the gateway could not make after all."""

from odoo import _, models

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
