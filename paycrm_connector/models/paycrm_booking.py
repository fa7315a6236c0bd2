"""Gateway events onto accounting: which handler books an event, and what the
handlers share (matching, amounts, settlement, money lines).

Each handler reads one event and returns a ``Booking`` plan (booking_plan.py),
one file per concern: paycrm_booking_payment.py, paycrm_booking_refund.py,
paycrm_booking_dispute.py, paycrm_booking_payout.py. The poster
(paycrm.booking.poster) books the plans.
"""

import hashlib

from odoo import _, api, models
from odoo.tools import SQL, LazyTranslate

from ..gateways import PayloadError, money
from .booking_plan import Booking, MoneyLine
from .paycrm_event import PaycrmRetry

_lt = LazyTranslate(__name__)

# Kinds whose handler is a method ``_paycrm_book_<kind>``; any other kind
# moves no money (``_paycrm_book_no_money``).
HANDLERS = {
    "payment_succeeded": "_paycrm_book_payment",
    "refund_succeeded": "_paycrm_book_refund",
    "refund_failed": "_paycrm_book_refund_failed",
    "dispute_opened": "_paycrm_book_dispute",
    "dispute_funds_withdrawn": "_paycrm_book_dispute",
    "dispute_funds_reinstated": "_paycrm_book_dispute",
    "dispute_closed": "_paycrm_book_dispute",
    "payout_paid": "_paycrm_book_payout",
    "payout_failed": "_paycrm_book_payout",
    # Saved methods and payments in flight (paycrm_booking_method.py).
    "payment_pending": "_paycrm_book_payment_pending",
    "payment_failed": "_paycrm_book_payment_failed",
    "method_saved": "_paycrm_book_method_saved",
    "method_removed": "_paycrm_book_method_removed",
}


def stored(value):
    """``value`` as the event stores it: unknown (``None``) clears the field."""
    return False if value is None else value


class PaycrmBooking(models.AbstractModel):
    _name = "paycrm.booking"
    _description = "Gateway Event Booking"

    @api.model
    def _paycrm_apply(self, event):
        """The ``Booking`` plan of ``event``; raise to retry or fail."""
        # Never book an event its gateway has not vouched for.
        if not event.verified:
            answer = event._paycrm_reverify()
            if answer:
                state, vals = answer
                return Booking(event, state=state, message=vals["last_error"])
        adapter = event.gateway_id._paycrm_adapter()
        try:
            norm = adapter.parse_event(event._paycrm_json())
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, PayloadError):
                raise
            # Signed, but its object is not shaped as the gateway's (a string
            # where an object belongs, text for an amount): it will never
            # parse, so it fails now with the reason instead of retrying.
            raise PayloadError(
                "data",
                _lt("is not shaped as this gateway's events (%(error)s)", error=exc),
            ) from exc
        if norm.kind == "other":
            return Booking(
                event,
                state="ignored",
                kind="other",
                message=norm.extra.get("reason")
                or _("Event type not handled by the connector."),
            )
        norm = adapter.enrich_event(norm)
        handler = HANDLERS.get(norm.kind, "_paycrm_book_no_money")
        booking = getattr(self, handler)(event, norm, adapter)
        # What every event records about its gateway object; a handler's own
        # payment reference (the payment a refund returns) comes first.
        booking.kind = norm.kind
        booking.object_ref = stored(norm.object_ref)
        if booking.payment_ref is None:
            booking.payment_ref = norm.payment_ref or False
        booking.charge_ref = norm.extra.get("charge") or False
        booking.payment_method = norm.payment_method or False
        booking.card_brand = norm.card_brand or False
        booking.card_country = self._paycrm_card_country(norm)
        return booking

    def _paycrm_book_no_money(self, event, norm, adapter):
        """Failed, pending or canceled payments and expired sessions move no
        money: keep the record, linked to its invoice when known."""
        booking = Booking(event, invoice=self._paycrm_find_invoice(event, norm))
        if norm.kind in ("payment_failed", "payment_canceled") and norm.session_ref:
            booking.failed_session = norm.session_ref
        return booking

    def _paycrm_card_country(self, norm):
        country = self.env["res.country"]
        if norm.card_country:
            country = country.search(
                [("code", "=", norm.card_country.upper())], limit=1
            )
        return country

    # ------------------------------------------------------------- matching

    def _paycrm_find_invoice(self, event, norm):
        if not norm.invoice_id or (norm.db and norm.db != self.env.cr.dbname):
            return self.env["account.move"]
        invoice = self.env["account.move"].browse(norm.invoice_id).exists()
        if invoice.company_id != event.company_id:
            return self.env["account.move"]
        return invoice

    def _paycrm_unmatched(self, event, message):
        return Booking(event, state="unmatched", message=message)

    def _paycrm_not_ours(self, event, norm):
        """A payment the connector did not create: never booked twice."""
        tx_model = self.env.get("payment.transaction")
        if tx_model is not None and norm.payment_ref:
            tx = tx_model.search(
                [("provider_reference", "=", norm.payment_ref)], limit=1
            )
            if tx:
                return Booking(
                    event,
                    state="ignored",
                    message=_(
                        "Handled by Odoo's payment module (transaction %(ref)s).",
                        ref=tx.reference,
                    ),
                )
        return Booking(
            event, state="ignored", message=_("Payment not created by the connector.")
        )

    def _paycrm_payment_event(self, event, norm):
        """The done event that booked the payment ``norm`` refers to."""
        domain = [
            ("gateway_id", "=", event.gateway_id.id),
            ("booking_key", "=like", "pay:%"),
        ]
        refs = [r for r in (norm.payment_ref, norm.extra.get("charge")) if r]
        if not refs:
            return self.env["paycrm.event"]
        return self.env["paycrm.event"].search(
            domain + ["|", ("payment_ref", "in", refs), ("charge_ref", "in", refs)],
            limit=1,
        )

    def _paycrm_payment_or_retry(self, event, norm):
        """The booked payment a refund or dispute belongs to, or an answer
        (not ours); ``PaycrmRetry`` while that payment is still to book."""
        payment = self._paycrm_payment_event(event, norm)
        if payment:
            return payment, None
        pending = norm.invoice_id or self.env["paycrm.event"].search_count(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("state", "=", "received"),
                ("payment_ref", "in", [norm.payment_ref]),
                ("id", "!=", event.id),
            ]
        )
        if pending:
            # Out of order: the payment's own event books it first.
            raise PaycrmRetry(
                _(
                    "Payment %(ref)s not booked yet; will retry.",
                    ref=norm.payment_ref or norm.extra.get("charge"),
                )
            )
        return None, self._paycrm_not_ours(event, norm)

    def _paycrm_claim(self, event, key):
        """Serialise bookings of one gateway object; return the earlier event
        that booked it, if any (another event type may carry the same money)."""
        digest = hashlib.sha1(f"{event.gateway_id.id}:{key}".encode()).digest()
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s)",
                int.from_bytes(digest[:8], "big", signed=True),
            )
        )
        return self.env["paycrm.event"].search(
            [("gateway_id", "=", event.gateway_id.id), ("booking_key", "=", key)],
            limit=1,
        )

    # ------------------------------------------------------------- amounts

    def _paycrm_amount(self, norm, currency, adapter, minor=None):
        exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        value = norm.amount_minor if minor is None else minor
        return currency.round(float(money.from_minor(value, exponent)))

    def _paycrm_settlement(self, norm, currency, adapter, amount, payment=None):
        """What moved on the gateway's balance, in the balance's currency.

        Returns ``(balance currency, gross, fee, fee in currency)``: the
        gateway's figures when it settles in another currency than
        ``currency`` (its fee is always in the balance's currency), else
        ``amount`` itself. A refund or dispute the gateway reports no
        settlement for takes the rate its ``payment`` (a booked event)
        settled at.
        """
        settle, gross = currency, amount
        if norm.settle_currency and norm.settle_currency != currency.name:
            settle = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", norm.settle_currency)], limit=1)
            )
            if not settle:
                raise PayloadError(
                    "currency",
                    _lt(
                        "names an unknown currency (%(code)s)",
                        code=norm.settle_currency,
                    ),
                )
            gross = self._paycrm_amount(norm, settle, adapter, norm.settle_amount_minor)
        elif payment and payment._paycrm_settles_apart() and payment.amount:
            settle = payment.settle_currency_id
            gross = settle.round(amount * payment.settle_amount / payment.amount)
        fee = self._paycrm_amount(norm, settle, adapter, norm.fee_minor)
        fee_here = fee
        if settle != currency:
            fee_here = currency.round(fee * amount / gross) if gross else 0.0
        return settle, gross, fee, fee_here

    # --------------------------------------------------------- money lines

    def _paycrm_money_lines(
        self, event, receivable, amount, settle, gross, money_in, fee=0.0
    ):
        """Lines of money between the customer and the gateway's balance.

        ``amount`` on the customer's ``receivable`` (in the entry's currency),
        ``gross`` on the clearing account (in the balance's currency
        ``settle``): in (a payment, funds reinstated) or out (a refund, funds
        withdrawn). ``fee``, in ``settle``: the gateway's fee on it, charged
        (> 0) or given back (< 0).
        """
        clearing = self._paycrm_clearing(event)
        if money_in:
            lines = [MoneyLine(clearing, gross, settle), MoneyLine(receivable, -amount)]
        else:
            lines = [MoneyLine(receivable, amount), MoneyLine(clearing, -gross, settle)]
        if settle.compare_amounts(fee, 0) > 0:
            lines += self._paycrm_fee_lines(event, fee, settle)
        elif settle.compare_amounts(fee, 0) < 0:
            lines += self._paycrm_fee_lines(event, -fee, settle, back=True)
        return lines

    def _paycrm_fee_lines(self, event, fee, currency, back=False):
        """The gateway's ``fee`` out of clearing, or ``back`` into it."""
        clearing = self._paycrm_clearing(event)
        fee_account = event.gateway_id.fee_account_id
        if back:
            return [
                MoneyLine(clearing, fee, currency),
                MoneyLine(fee_account, -fee, currency),
            ]
        return [
            MoneyLine(fee_account, fee, currency),
            MoneyLine(clearing, -fee, currency),
        ]

    def _paycrm_clearing(self, event):
        journal = event.gateway_id.journal_id
        if not journal.default_account_id:
            raise PaycrmRetry(_("The gateway has no clearing journal account."))
        return journal.default_account_id

    def _paycrm_receivable(self, move):
        return move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
