"""What a gateway event books, worked out before anything is posted.

A booking handler (``paycrm_booking_<concern>.py``) reads one event and returns
a ``Booking``; the poster (``paycrm.booking.poster``) books one or a batch of
them: creates and posts their entries, reconciles them, updates their invoices
and writes their events. Plain Python: the records it holds are the ORM's, the
decisions are the handler's, and nothing here touches the database.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MoneyLine:
    """One line of an entry in the gateway's clearing journal."""

    account: Any  # account.account
    amount: float  # debit positive, in ``currency``
    currency: Any = None  # res.currency; the entry's own when None


@dataclass
class Entry:
    """One journal entry to create and post in the gateway's clearing journal."""

    ref: str
    lines: list[MoneyLine]
    currency: Any  # res.currency of the amounts (lines may name their own)
    partner: Any = None  # res.partner, on the entry and its lines


@dataclass
class Booking:
    """The plan for one event: what it records, what it posts, what follows.

    A field left ``None`` is not written on the event (an empty recordset or
    ``False`` is: it clears the field).
    """

    event: Any  # paycrm.event being booked
    state: str = "done"  # what the event becomes: done, ignored, unmatched, failed
    message: Any = False  # why, shown on the event (its last error)

    # What the event records about the gateway object.
    kind: str | None = None
    object_ref: Any = None
    payment_ref: Any = None
    charge_ref: Any = None
    object_status: Any = None
    payment_method: Any = None
    card_brand: Any = None
    card_country: Any = None  # res.country
    invoice: Any = None  # account.move the money belongs to
    currency: Any = None  # res.currency of ``amount`` and ``fee``
    booking_key: str | None = None  # one booking per gateway object
    amount: float | None = None
    fee: float | None = None  # the gateway's fee, in ``currency``
    # What moved on the gateway's balance, in the balance's own currency.
    settle_currency: Any = None
    settle_amount: float | None = None
    settle_fee: float | None = None

    # What is posted: new entries (the event links to the first), or the
    # reversal of an earlier one.
    entries: list[Entry] = field(default_factory=list)
    reverse: Any = None  # account.move
    # Open items the first entry is reconciled with: its lines on
    # ``reconcile_account`` (the receivable when None) and these.
    reconcile_with: Any = None  # account.move.line
    reconcile_account: Any = None  # account.account
    # A charge-back: the payment entry taken off the invoice and set against
    # the first entry instead, so the invoice is due again.
    reopen: Any = None  # account.move

    # What follows on the invoice.
    received: float = 0.0  # added to the amount received through the gateway
    fees: float = 0.0  # added to the gateway fees
    disputed: bool | None = None  # the invoice's Disputed flag, when it changes
    note: str | None = None  # logged in the invoice's chatter
    activities: list[tuple[str, str]] = field(default_factory=list)  # (summary, note)
    failed_session: str | None = None  # checkout session whose money never came

    # A customer's payment of ``invoice``: credits the reminders before it,
    # marks its checkout session paid, flags an overpayment of ``residual``
    # and sends the customer a receipt.
    paid: bool = False
    gateway_ref: str | None = None
    session_ref: str | None = None
    residual: float | None = None  # what was due before this payment

    @property
    def batchable(self):
        """A payment to post: a batch posts these together, before any other
        kind of event (a refund needs its payment booked)."""
        return self.paid and bool(self.entries)

    def event_values(self):
        """The event's new field values (its state and error apart)."""
        values = {
            "kind": self.kind,
            "object_ref": self.object_ref,
            "payment_ref": self.payment_ref,
            "charge_ref": self.charge_ref,
            "object_status": self.object_status,
            "payment_method": self.payment_method,
            "card_brand": self.card_brand,
            "booking_key": self.booking_key,
            "amount": self.amount,
            "fee_amount": self.fee,
            "settle_amount": self.settle_amount,
            "settle_fee": self.settle_fee,
        }
        records = {
            "card_country_id": self.card_country,
            "invoice_id": self.invoice,
            "currency_id": self.currency,
            "settle_currency_id": self.settle_currency,
        }
        values |= {
            name: record.id for name, record in records.items() if record is not None
        }
        return {name: value for name, value in values.items() if value is not None}
