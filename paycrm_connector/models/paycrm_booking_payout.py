"""Payouts: money from the gateway's clearing account to the bank."""

from odoo import _, models

from .booking_plan import Booking, Entry, MoneyLine


# One handler concern of paycrm.booking (see paycrm_booking.py HANDLERS).
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    def _paycrm_book_payout(self, event, norm, adapter):
        gateway = event.gateway_id
        currency = self.env["res.currency"].search(
            [("name", "=", norm.currency)], limit=1
        )
        if not currency:
            return self._paycrm_unmatched(
                event, _("Unknown currency %(cur)s.", cur=norm.currency)
            )
        bank = gateway._paycrm_payout_journal()
        transit = bank and bank._paycrm_payout_transit_account()
        if not transit:
            return self._paycrm_unmatched(
                event,
                _(
                    "Choose the bank journal payouts arrive in, on the gateway, and "
                    "give it an outstanding receipts account."
                ),
            )
        amount = self._paycrm_amount(norm, currency, adapter)
        booking = Booking(event, currency=currency, amount=amount)
        paid = self.env["paycrm.event"]
        if norm.kind == "payout_paid":
            key, sign = f"payout:{norm.object_ref}", 1
        else:
            paid = self.env["paycrm.event"].search(
                [
                    ("gateway_id", "=", gateway.id),
                    ("booking_key", "=", f"payout:{norm.object_ref}"),
                ],
                limit=1,
            )
            if not paid:
                booking.message = _("Payout was never booked as paid.")
                return booking
            key, sign = f"payout-back:{norm.object_ref}", -1
        if self._paycrm_claim(event, key):
            return booking
        clearing = self._paycrm_clearing(event)
        # Clearing -> the bank journal's outstanding receipts, as Odoo books a
        # payment: the bank statement line of the payout then matches this
        # entry (see account.bank.statement.line), one line, never counted twice.
        booking.entries.append(
            Entry(
                _("Payout %(ref)s", ref=norm.object_ref),
                [
                    MoneyLine(transit, sign * amount),
                    MoneyLine(clearing, -sign * amount),
                ],
                currency,
            )
        )
        if paid:
            # A failed payout cancels the one booked as paid.
            booking.reconcile_with = paid.move_id.line_ids.filtered(
                lambda line: line.account_id == transit
            )
            booking.reconcile_account = transit
        booking.booking_key = key
        return booking
