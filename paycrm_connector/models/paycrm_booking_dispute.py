"""Disputes: funds the gateway takes back for a charge-back, and gives back
when the dispute is won; the invoice's Disputed flag."""

from odoo import _, fields, models
from odoo.tools import format_amount

from .. import const
from .booking_plan import Booking, Entry
from .paycrm_booking import stored
from .paycrm_event import PaycrmRetry


# One handler concern of paycrm.booking (see paycrm_booking.py HANDLERS).
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    def _paycrm_book_dispute(self, event, norm, adapter):
        payment, answer = self._paycrm_payment_or_retry(event, norm)
        if answer:
            return answer
        invoice = payment.invoice_id
        booking = Booking(
            event,
            invoice=invoice,
            currency=invoice.currency_id,
            payment_ref=payment.payment_ref,
            object_status=stored(norm.status),
        )
        if norm.money == "out":
            self._paycrm_plan_withdrawal(booking, norm, adapter, payment)
        elif norm.money in ("back", "release"):
            self._paycrm_plan_reinstatement(booking, norm, adapter)
        booking.disputed = self._paycrm_disputed(invoice, event, norm)
        if norm.kind == "dispute_closed" and (norm.status or "").lower() == "lost":
            booking.activities.append(
                (
                    _("Dispute lost"),
                    _(
                        "The customer won dispute %(ref)s: the charged-back amount "
                        "is due again on %(invoice)s, and reminders chase it.",
                        ref=norm.object_ref,
                        invoice=invoice.display_name,
                    ),
                )
            )
        return booking

    def _paycrm_disputed(self, invoice, event, norm):
        """Whether the invoice is disputed, from the disputes' own states.

        Each dispute's state is the status carried by its newest event (the
        gateway's event time; on a tie a final status wins, as a dispute never
        reopens), whatever order the events were delivered and processed in:
        a "closed: lost" processed before "created" leaves the invoice
        undisputed.
        """
        latest = {}

        def consider(ref, created, status):
            status = (status or "").lower()
            rank = (
                created or fields.Datetime.to_datetime("1970-01-01"),
                status in const.DISPUTE_FINAL_STATUSES,
            )
            if ref not in latest or rank >= latest[ref][0]:
                latest[ref] = (rank, status)

        applied = self.env["paycrm.event"].search_read(
            [
                ("invoice_id", "=", invoice.id),
                ("kind", "in", const.DISPUTE_KINDS),
                ("state", "=", "done"),
                ("object_status", "!=", False),
                ("id", "!=", event.id),
            ],
            ["object_ref", "created", "object_status"],
        )
        for row in applied:
            consider(row["object_ref"], row["created"], row["object_status"])
        consider(norm.object_ref, event.created, norm.status)
        return any(
            status not in const.DISPUTE_FINAL_STATUSES
            for _rank, status in latest.values()
        )

    def _paycrm_plan_withdrawal(self, booking, norm, adapter, payment):
        """Funds taken back: out of clearing, due again on the invoice."""
        event, invoice = booking.event, booking.invoice
        key = f"dispute-out:{norm.money_ref or norm.object_ref}"
        if self._paycrm_claim(event, key):
            return
        currency = invoice.currency_id
        amount = self._paycrm_amount(norm, currency, adapter)
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount, payment
        )
        lines = self._paycrm_money_lines(
            event,
            self._paycrm_receivable(invoice)[:1].account_id,
            amount,
            settle,
            gross,
            money_in=False,
            # The gateway's dispute fee; none is given back on a withdrawal.
            fee=max(fee, 0.0),
        )
        booking.entries.append(
            Entry(
                _("Dispute %(ref)s: funds withdrawn", ref=norm.object_ref),
                lines,
                currency,
                invoice.commercial_partner_id,
            )
        )
        booking.reopen = payment.move_id
        booking.fees = fee_here
        booking.note = _(
            "Dispute %(ref)s: the gateway took %(amount)s back. The invoice is "
            "due again for that amount until the dispute is won.",
            ref=norm.object_ref,
            amount=format_amount(self.env, amount, currency),
        )
        booking.booking_key = key
        booking.amount = amount
        booking.fee = fee_here
        booking.settle_currency = settle
        booking.settle_amount = gross
        booking.settle_fee = fee

    def _paycrm_plan_reinstatement(self, booking, norm, adapter):
        """Funds given back: into clearing, paying the invoice again."""
        event, invoice = booking.event, booking.invoice
        money_ref = norm.money_ref or norm.object_ref
        withdrawn = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("booking_key", "=", f"dispute-out:{money_ref}"),
            ],
            limit=1,
        )
        if not withdrawn and norm.money == "release":
            return  # nothing was taken: nothing comes back
        if not withdrawn:
            raise PaycrmRetry(
                _(
                    "Dispute %(ref)s: funds not withdrawn yet; will retry.",
                    ref=norm.object_ref,
                )
            )
        key = f"dispute-in:{money_ref}"
        if self._paycrm_claim(event, key):
            return
        currency = invoice.currency_id
        amount = withdrawn.amount
        # A negative fee: the gateway gave its dispute fee back.
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount, withdrawn
        )
        fee_back, fee_back_here = -fee, -fee_here
        receivable = self._paycrm_receivable
        lines = self._paycrm_money_lines(
            event,
            receivable(invoice)[:1].account_id,
            amount,
            settle,
            gross,
            money_in=True,
            # Only a fee given back is booked: reinstating charges none.
            fee=min(fee, 0.0),
        )
        booking.entries.append(
            Entry(
                _("Dispute %(ref)s: funds reinstated", ref=norm.object_ref),
                lines,
                currency,
                invoice.commercial_partner_id,
            )
        )
        # The money is back: it pays the invoice again when the withdrawal
        # re-opened it (see paycrm.booking.poster _paycrm_reopen_invoice),
        # else it settles the withdrawal's own open item.
        booking.reconcile_with = receivable(invoice) + receivable(withdrawn.move_id)
        if settle.compare_amounts(fee_back, 0) > 0:
            booking.fees = -fee_back_here
        # The fee given back is a negative fee: net = amount - fee, as the
        # gateway's balance transaction reports it (the Tie-out compares).
        booking.booking_key = key
        booking.amount = amount
        booking.fee = -max(fee_back_here, 0.0)
        booking.settle_currency = settle
        booking.settle_amount = gross
        booking.settle_fee = -max(fee_back, 0.0)
