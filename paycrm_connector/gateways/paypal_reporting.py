"""PayPal's Transaction Search and balances reduced to what the Tie-out compares.

Pure functions, no network: ``PaypalAdapter.balance`` and
``balance_transactions`` (``paypal.py``) fetch, these read. A Transaction
Search row becomes the row the Stripe adapter returns for a balance
transaction (``id``, ``type``, ``source``, ``amount``, ``fee``, ``net`` in
signed minor units, ``created``), so the Tie-out matches each one to the
booking of its own object: a capture, a refund, a reversal by their own
transaction id; a dispute hold or chargeback (whose rows name no dispute) by
the capture it is about.
"""

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from odoo.tools import LazyTranslate

from . import money
from .base import GatewayError

_lt = LazyTranslate(__name__, default_lang="en_US")

# PayPal searches at most 31 days per request, and keeps three years.
SEARCH_WINDOW_SECONDS = 31 * 86400
SEARCH_HISTORY_SECONDS = 3 * 365 * 86400
SEARCH_PAGE_SIZE = 500
# Transaction event codes (T-codes) -> movement type. Most are read by their
# group (the first three characters); these codes differ from their group's.
TCODE_TYPES = {
    "T1106": "reversal",  # payment reversal, initiated by PayPal
    "T1107": "refund",  # payment refund, initiated by the merchant
    "T1110": "dispute_hold",  # hold for dispute investigation
    "T1111": "dispute_release",  # cancellation of a hold for dispute resolution
    "T1201": "chargeback",
    "T1202": "chargeback_reversal",
}
TCODE_GROUP_TYPES = {
    "T00": "payment",  # PayPal-account payments, Checkout APIs captures (T0006)
    "T01": "fee",  # fees not tied to a payment
    "T02": "currency_conversion",
    "T04": "payout",  # withdrawals to the bank
}
# Rows that name no object of their own: matched by the capture they are about.
BY_REFERENCE = {"dispute_hold", "dispute_release", "chargeback", "chargeback_reversal"}
# Statuses of rows that moved no money: D denied, P pending.
NO_MONEY_STATUSES = {"D", "P"}
_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


def iso(epoch):
    """Epoch seconds as the ISO 8601 UTC time PayPal's search takes."""
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def epoch(value):
    """PayPal's ISO 8601 time (``2024-05-02T10:01:02+0000`` or ``...Z``) as
    epoch seconds; 0 when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return 0
    value = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", value.replace("Z", "+00:00"))
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return 0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp())


def search_windows(start, end):
    """``(start, end)`` epoch pairs, each within PayPal's 31-day limit,
    covering ``start`` to ``end`` (both included)."""
    while start <= end:
        stop = min(start + SEARCH_WINDOW_SECONDS - 1, end)
        yield start, stop
        start = stop + 1


def signed_minor(amount):
    """PayPal ``{"currency_code", "value"}`` -> (signed minor units, currency)."""
    if not amount:
        return 0, ""
    currency = (amount.get("currency_code") or "").upper()
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation as exc:
        raise GatewayError(
            _lt("malformed amount in a PayPal report: %(amount)s", amount=amount)
        ) from exc
    exponent = money.paypal_exponent(currency)
    if exponent is None:  # not a PayPal currency: trust the digits PayPal sent
        exponent = max(0, -value.as_tuple().exponent)
    return money.to_minor(value, exponent), currency


def movement_type(code):
    code = code or ""
    return TCODE_TYPES.get(code) or TCODE_GROUP_TYPES.get(code[:3], "other")


def transaction_row(info):
    """The Tie-out row of one ``transaction_info``, with its ``currency`` and
    ``status`` (the adapter filters on them)."""
    kind = movement_type(info.get("transaction_event_code"))
    amount, currency = signed_minor(info.get("transaction_amount"))
    # PayPal reports its fee as money taken (negative), or handed back on a
    # refund (positive); the row's fee is what the merchant paid.
    fee = -signed_minor(info.get("fee_amount"))[0]
    own_id = info.get("transaction_id") or ""
    source = info.get("paypal_reference_id") if kind in BY_REFERENCE else own_id
    return {
        "id": own_id,
        "type": kind,
        "source": source or own_id,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "created": epoch(info.get("transaction_initiation_date")),
        "currency": currency,
        "status": info.get("transaction_status") or "",
    }


def page_rows(body, currency):
    """The movements in ``currency`` of one Transaction Search page that
    moved money and are not payouts, in the Stripe row shape."""
    rows = []
    for detail in body.get("transaction_details") or []:
        info = (detail or {}).get("transaction_info") or {}
        row = transaction_row(info)
        if (
            row["currency"] != currency.upper()
            or row["type"] == "payout"
            or row["status"] in NO_MONEY_STATUSES
        ):
            continue
        rows.append({k: v for k, v in row.items() if k not in ("currency", "status")})
    return rows


def balance_minor(body, currency):
    """The money at the merchant's disposal in ``currency`` (PayPal's
    available balance; money withheld for disputes is out of it, as it is out
    of the clearing account), in minor units; 0 when PayPal holds none."""
    code = currency.upper()
    for item in body.get("balances") or []:
        if (item or {}).get("currency") == code:
            amount = item.get("available_balance") or item.get("total_balance")
            return signed_minor(amount)[0]
    return 0
