"""PayPal payloads (webhook events, captures, refunds) reduced to plain values.

Pure functions, no network: the adapter in ``paypal.py`` and tests share them.
"""

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

from odoo.tools import LazyTranslate

from .. import const
from . import money
from .base import (
    EventEnvelope,
    GatewayError,
    NormalizedEvent,
    iso_field,
    text_field,
)

_lt = LazyTranslate(__name__, default_lang="en_US")

# Short keys: PayPal's custom_id holds at most 127 characters.
CUSTOM_ID_KEYS = (
    ("inv", const.META_INVOICE_ID),
    ("co", const.META_COMPANY_ID),
    ("link", const.META_LINK_ID),
    ("db", const.META_DB),
)


def envelope(event):
    """The ``EventEnvelope`` of a PayPal event: its type is ``event_type``,
    its time an ISO 8601 ``create_time``; refused as ``GatewayAdapter.envelope``
    refuses (``PayloadError``)."""
    external_id = text_field(event, "id")
    event_type = text_field(event, "event_type")
    return EventEnvelope(
        external_id=external_id,
        event_type=event_type,
        kind=const.PAYPAL_EVENT_KINDS.get(event_type, "other"),
        created=iso_field(event, "create_time"),
        livemode=bool(event.get("livemode")),
    )


def parse_event(event, live=False):
    """A ``NormalizedEvent`` for a verified PayPal webhook event (a dict)."""
    # Its id, type and time are read the intake's way, or refused.
    head = envelope(event)
    event_type = head.event_type
    resource = event.get("resource") or {}
    if event_type.startswith("CUSTOMER.DISPUTE."):
        values = dispute_values(resource)
    elif event.get("resource_type") == "refund" or event_type in (
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REVERSED",
    ):
        values = refund_values(resource)
        if event_type == "PAYMENT.CAPTURE.REVERSED":
            # A chargeback or funding reversal: PayPal took the money back.
            # Booked as a dispute withdrawal of the capture (its refund object
            # is final): a lost dispute of the same capture books no second.
            values["status"] = "reversed"
            values["money"] = "out"
            values["money_ref"] = values["payment_ref"]
    else:
        values = capture_values(resource)
    return NormalizedEvent(
        external_id=head.external_id,
        event_type=event_type,
        kind=head.kind,
        created=head.created or 0,
        livemode=_livemode(event, live),
        **values,
    )


def encode_custom_id(invoice_id, metadata):
    """``inv=12&co=1&link=5&db=x``: the invoice metadata within 127 characters."""
    values = {const.META_INVOICE_ID: invoice_id, **(metadata or {})}
    pairs = [(short, values[key]) for short, key in CUSTOM_ID_KEYS if values.get(key)]
    return urlencode(pairs)[:127]


def decode_custom_id(value):
    """Back to ``{"inv": int, "co": int, "link": int, "db": str}`` (keys present)."""
    value = value or ""
    pairs = [("inv", value)] if value.isdigit() else parse_qsl(value)
    decoded = {}
    for key, item in pairs:
        if key in ("inv", "co", "link"):
            if item.isdigit():
                decoded[key] = int(item)
        elif key == "db":
            decoded[key] = item
    return decoded


def link(obj, rel):
    """The ``href`` of the HATEOAS link ``rel`` of a PayPal object, or ""."""
    for item in obj.get("links") or []:
        if item.get("rel") == rel:
            return item.get("href") or ""
    return ""


def money_minor(amount):
    """PayPal ``{"currency_code", "value"}`` -> (positive minor units, currency)."""
    if not amount:
        return 0, ""
    currency = (amount.get("currency_code") or "").upper()
    try:
        value = abs(Decimal(str(amount.get("value"))))
    except InvalidOperation as exc:
        raise GatewayError(
            _lt("malformed amount in a PayPal payload: %(amount)s", amount=amount)
        ) from exc
    exponent = money.paypal_exponent(currency)
    if exponent is None:  # not a PayPal currency: trust the digits PayPal sent
        exponent = max(0, -value.as_tuple().exponent)
    return money.to_minor(value, exponent), currency


def _livemode(event, default):
    # Events carry no live flag; their own links point at the API that sent them.
    hrefs = [item.get("href") or "" for item in event.get("links") or []]
    if hrefs:
        return not any(".sandbox." in href for href in hrefs)
    return bool(default)


def last_segment(href):
    return href.rstrip("/").rsplit("/", 1)[-1] if href else ""


def _meta_values(custom_id):
    meta = decode_custom_id(custom_id)
    return {"invoice_id": meta.get("inv"), "db": meta.get("db", "")}


def payment_source_values(source):
    """Method, card brand and card country of a PayPal ``payment_source``.

    Captures usually carry none (the order does): the money then came through
    a PayPal account, whose country is the payer's, not a card's."""
    source = source if isinstance(source, dict) else {}
    card = source.get("card")
    if isinstance(card, dict):
        country = card.get("country_code") or (card.get("bin_details") or {}).get(
            "bin_country_code"
        )
        return {
            "payment_method": "card",
            "card_brand": str(card.get("brand") or "").lower(),
            "card_country": str(country or "").upper(),
        }
    method = next(iter(source), "paypal")
    return {"payment_method": str(method).lower()}


def capture_values(resource):
    amount, currency = money_minor(resource.get("amount"))
    breakdown = resource.get("seller_receivable_breakdown") or {}
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    return {
        "object_ref": resource.get("id") or "",
        "payment_ref": resource.get("id") or "",
        "session_ref": related.get("order_id") or last_segment(link(resource, "up")),
        "amount_minor": amount,
        "currency": currency,
        "fee_minor": money_minor(breakdown.get("paypal_fee"))[0],
        "status": resource.get("status") or "",
        "extra": {
            "net_minor": money_minor(breakdown.get("net_amount"))[0],
            "invoice_number": resource.get("invoice_id") or "",
            "status_reason": (resource.get("status_details") or {}).get("reason", ""),
        },
        **_meta_values(resource.get("custom_id")),
        **payment_source_values(resource.get("payment_source")),
    }


def refund_values(resource):
    amount, currency = money_minor(resource.get("amount"))
    breakdown = resource.get("seller_payable_breakdown") or {}
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    capture_id = last_segment(link(resource, "up")) or related.get("capture_id")
    return {
        "object_ref": resource.get("id") or "",
        "payment_ref": capture_id or "",
        "session_ref": related.get("order_id") or "",
        "amount_minor": amount,
        "currency": currency,
        "status": resource.get("status") or "",
        # PayPal hands back part of its fee on a refund: the processor needs it
        # for the clearing account to tie out with the PayPal balance.
        "extra": {
            "fee_refunded_minor": money_minor(breakdown.get("paypal_fee"))[0],
            "net_minor": money_minor(breakdown.get("net_amount"))[0],
        },
        **_meta_values(resource.get("custom_id")),
    }


def dispute_values(resource):
    transactions = resource.get("disputed_transactions") or [{}]
    txn = transactions[0] or {}
    amount, currency = money_minor(
        resource.get("dispute_amount") or txn.get("gross_amount")
    )
    outcome = (resource.get("dispute_outcome") or {}).get("outcome_code") or ""
    status = resource.get("status") or ""
    if status == "RESOLVED":
        status = const.PAYPAL_DISPUTE_OUTCOMES.get(outcome, "closed")
    refunded = (resource.get("dispute_outcome") or {}).get("amount_refunded")
    money = {}
    if status == "lost":
        # The buyer got the money back: out of the balance, once per capture
        # (a reversal of the same capture may have booked it already).
        money = {"money": "out", "money_ref": txn.get("seller_transaction_id") or ""}
        if refunded:
            amount = money_minor(refunded)[0]
    elif status == "won":
        # A hold or reversal ends: back only if it was booked as taken.
        money = {
            "money": "release",
            "money_ref": txn.get("seller_transaction_id") or "",
        }
    return {
        "object_ref": resource.get("dispute_id") or "",
        "payment_ref": txn.get("seller_transaction_id") or "",
        "amount_minor": amount,
        "currency": currency,
        "status": status,
        "extra": {
            "reason": resource.get("reason") or "",
            "stage": resource.get("dispute_life_cycle_stage") or "",
            "outcome": outcome,
            "amount_refunded_minor": money_minor(refunded)[0],
        },
        **money,
        **_meta_values(txn.get("custom")),
    }
