"""Payments: money from the customer into the gateway's clearing account,
reconciled with the invoice it pays."""

from odoo import _, models

from .booking_plan import Booking, Entry


# One handler concern of paycrm.booking (see paycrm_booking.py HANDLERS).
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    def _paycrm_book_payment(self, event, norm, adapter):
        invoice, answer = self._paycrm_check_invoice(event, norm)
        if answer:
            return answer
        amount, answer = self._paycrm_check_amount(event, invoice, norm, adapter)
        if answer:
            return answer
        return self._paycrm_plan_payment(event, norm, adapter, invoice, amount)

    def _paycrm_check_invoice(self, event, norm):
        """The invoice a payment belongs to, or an answer (not ours, unmatched)."""
        if not norm.invoice_id:
            return None, self._paycrm_not_ours(event, norm)
        if norm.db and norm.db != self.env.cr.dbname:
            return None, self._paycrm_unmatched(
                event, _("The payment belongs to database %(db)s.", db=norm.db)
            )
        invoice = self._paycrm_find_invoice(event, norm)
        if (
            not invoice
            or invoice.move_type != "out_invoice"
            or invoice.state != "posted"
        ):
            return None, self._paycrm_unmatched(
                event,
                _(
                    "Invoice %(id)s not found among posted invoices of this company.",
                    id=norm.invoice_id,
                ),
            )
        return invoice, None

    def _paycrm_check_amount(self, event, invoice, norm, adapter):
        """The payment's amount in the invoice's currency, or an unmatched
        answer when it cannot pay that invoice."""
        currency = invoice.currency_id
        if norm.currency != currency.name:
            return None, self._paycrm_unmatched(
                event,
                _(
                    "Currency %(got)s does not match the invoice's %(want)s.",
                    got=norm.currency,
                    want=currency.name,
                ),
            )
        amount = self._paycrm_amount(norm, currency, adapter)
        if currency.compare_amounts(amount, 0) <= 0 or (
            currency.compare_amounts(amount, invoice.amount_total) > 0
        ):
            return None, self._paycrm_unmatched(
                event,
                _(
                    "Amount %(amount)s does not fit invoice %(name)s "
                    "(total %(total)s).",
                    amount=amount,
                    name=invoice.name,
                    total=invoice.amount_total,
                ),
            )
        return amount, None

    def _paycrm_plan_payment(self, event, norm, adapter, invoice, amount):
        """The plan booking ``amount`` as a payment of ``invoice``, whether the
        event named it or staff matched it by hand (paycrm.event.match)."""
        ref = norm.payment_ref or norm.object_ref
        key = f"pay:{ref}"
        currency = invoice.currency_id
        booking = Booking(event, invoice=invoice, currency=currency)
        earlier = self._paycrm_claim(event, key)
        if earlier:
            booking.message = _(
                "Already booked by event %(ref)s.", ref=earlier.external_id
            )
            return booking
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount
        )
        receivable = self._paycrm_receivable(invoice)
        lines = self._paycrm_money_lines(
            event,
            receivable[:1].account_id,
            amount,
            settle,
            gross,
            money_in=True,
            # A payment books a fee charged only (a negative figure books no
            # fee lines, as the gateway returns no fee on a payment).
            fee=max(fee, 0.0),
        )
        booking.entries.append(
            Entry(
                f"{event.gateway_id.name} {ref}",
                lines,
                currency,
                invoice.commercial_partner_id,
            )
        )
        booking.reconcile_with = receivable
        booking.booking_key = key
        booking.amount = amount
        booking.fee = fee_here
        booking.settle_currency = settle
        booking.settle_amount = gross
        booking.settle_fee = fee
        booking.received = amount
        booking.fees = fee_here
        booking.paid = True
        booking.gateway_ref = ref
        booking.session_ref = norm.session_ref
        booking.residual = invoice.amount_residual
        return booking
