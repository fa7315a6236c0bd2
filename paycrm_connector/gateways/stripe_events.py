"""Stripe webhook events reduced to ``NormalizedEvent`` (no network, no ORM)."""

from odoo.tools import LazyTranslate

from .base import NormalizedEvent, minor_units

_lt = LazyTranslate(__name__, default_lang="en_US")


def _ref(value):
    """An expandable Stripe field: the id whether it came expanded or not."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def payment_method_values(details):
    """Method type, card brand and card country of a Charge's
    ``payment_method_details`` or of a PaymentMethod (both are shaped
    ``{"type": "card", "card": {"brand": ..., "country": ...}}``)."""
    if not isinstance(details, dict) or not details.get("type"):
        return {}
    method = str(details["type"])
    card = details.get(method) if method in ("card", "card_present") else None
    values = {"payment_method": method}
    if isinstance(card, dict):
        values["card_brand"] = str(card.get("brand") or "")
        values["card_country"] = str(card.get("country") or "").upper()
    return values


def intent_method_values(intent):
    """The saved-method fields of a PaymentIntent (a dict): the method it
    charged (or tried), its customer, why it was declined and whether the
    payer asked to save the method."""
    error = intent.get("last_payment_error") or {}
    if not isinstance(error, dict):
        error = {}
    values = {
        "method_ref": _ref(intent.get("payment_method"))
        or _ref(error.get("payment_method")),
        "customer_ref": _ref(intent.get("customer")),
        "decline_code": str(error.get("decline_code") or error.get("code") or ""),
        "save_method": intent.get("setup_future_usage")
        in ("off_session", "on_session"),
    }
    return {key: value for key, value in values.items() if value}


def _setup_fields(obj, event):
    """Method fields of a saved-method event: a Checkout Session in setup
    mode, a SetupIntent or a PaymentMethod (``payment_method.detached``,
    whose customer is only in the event's ``previous_attributes``)."""
    kind = obj.get("object")
    extra = {}
    values = {"customer_ref": _ref(obj.get("customer"))}
    intent = None
    if kind == "checkout.session":
        values["session_ref"] = obj.get("id", "")
        intent = obj.get("setup_intent")
        extra["setup_intent"] = _ref(intent)
    elif kind == "setup_intent":
        intent = obj
        extra["setup_intent"] = obj.get("id", "")
    elif kind == "payment_method":
        values["method_ref"] = obj.get("id", "")
        values.update(payment_method_values(obj))
        if not values["customer_ref"]:
            previous = (event.get("data") or {}).get("previous_attributes") or {}
            values["customer_ref"] = _ref(previous.get("customer"))
    if isinstance(intent, dict):
        method = intent.get("payment_method")
        values["method_ref"] = _ref(method)
        values["customer_ref"] = values["customer_ref"] or _ref(intent.get("customer"))
        if isinstance(method, dict):
            values.update(payment_method_values(method))
        extra["mandate"] = _ref(intent.get("mandate"))
    return values, extra


def _payment_fields(obj, event_type):
    """Payment references and fee of a Checkout Session or a PaymentIntent."""
    if obj.get("object") == "checkout.session":
        meta = dict(obj.get("metadata") or {})
        if obj.get("client_reference_id") and "paycrm_invoice_id" not in meta:
            meta["paycrm_invoice_id"] = obj["client_reference_id"]
        status = obj.get("payment_status") or ""
        fields = {
            "payment_ref": _ref(obj.get("payment_intent")),
            "session_ref": obj.get("id", ""),
            "amount_minor": minor_units(obj, "amount_total"),
            "status": status,
            "customer_ref": _ref(obj.get("customer")),
        }
        if isinstance(obj.get("payment_intent"), dict):
            fields.update(intent_method_values(obj["payment_intent"]))
        return fields, meta
    charge = obj.get("latest_charge")
    fields = {
        "payment_ref": obj.get("id", ""),
        "amount_minor": minor_units(obj, "amount_received", "amount"),
        "status": obj.get("status") or "",
        **intent_method_values(obj),
    }
    if isinstance(charge, dict) and isinstance(charge.get("balance_transaction"), dict):
        fields.update(settlement_values(charge["balance_transaction"], obj))
    if isinstance(charge, dict):
        fields.update(payment_method_values(charge.get("payment_method_details")))
    else:
        # A declined attempt names the method it tried.
        error = obj.get("last_payment_error") or {}
        fields.update(payment_method_values(error.get("payment_method")))
    return fields, dict(obj.get("metadata") or {})


def settlement_values(txn, fields):
    """Fee, and the gross in the balance's currency when it is not the
    charge's, from a Stripe balance transaction."""
    values = {"fee_minor": minor_units(txn, "fee")}
    currency = str(txn.get("currency") or "").upper()
    charged = str(fields.get("currency") or "").upper()
    if currency and charged and currency != charged:
        values["settle_currency"] = currency
        values["settle_amount_minor"] = abs(minor_units(txn, "amount"))
    return values


def _refund_fields(obj):
    if obj.get("object") == "charge":
        # charge.refunded: the refunds listed on the charge (when Stripe sent
        # them) are booked one by one; otherwise the refund.* events book them.
        refunds = (obj.get("refunds") or {}).get("data") or []
        latest = refunds[0] if refunds else {}
        obj = {
            **latest,
            "charge": obj.get("id", ""),
            "payment_intent": obj.get("payment_intent"),
        }
    fields = {
        "object_ref": obj.get("id", ""),
        "payment_ref": _ref(obj.get("payment_intent")),
        "amount_minor": minor_units(obj, "amount"),
        "status": obj.get("status", ""),
        "charge": _ref(obj.get("charge")),
        "balance_transaction": _ref(obj.get("balance_transaction")),
    }
    if isinstance(obj.get("balance_transaction"), dict):
        fields.update(settlement_values(obj["balance_transaction"], obj))
        fields.pop("fee_minor")  # a refund's fee is the gateway's, not ours
    return fields


def _dispute_money(obj, sign, values):
    """Fee (and settlement) of the dispute's last balance transaction moving
    money ``sign`` way."""
    for txn in reversed(obj.get("balance_transactions") or []):
        if isinstance(txn, dict) and (txn.get("amount") or 0) * sign > 0:
            return settlement_values(txn, values)
    return {"fee_minor": 0}


# Kinds read from a Checkout Session or a PaymentIntent.
PAYMENT_KINDS = (
    "payment_succeeded",
    "payment_failed",
    "payment_canceled",
    "payment_pending",
)


def event_kind(event, kinds):
    """``(kind, reason)`` of a decoded Stripe event (``kinds``: event type ->
    normalised kind): its type's kind, unless the object says the money has
    not moved yet. Reads the object leniently: a malformed one is refused
    later, by ``normalize_event``."""
    kind = kinds.get(event.get("type"), "other")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return kind, None
    if event.get("type") == "checkout.session.completed" and obj.get("mode") == "setup":
        # A page that only saved a payment method.
        return "method_saved", None
    if (
        event.get("type") == "checkout.session.completed"
        and obj.get("payment_status") != "paid"
    ):
        # Delayed methods (SEPA, bank transfer): paid later by
        # checkout.session.async_payment_succeeded.
        return "payment_pending", None
    status = _refund_status(obj) if kind == "refund_succeeded" else None
    if status is not None and status != "succeeded":
        # Pending refunds are booked by the refund.updated that succeeds.
        return "other", _lt("refund not succeeded yet")
    return kind, None


def _refund_status(obj):
    """The status of a refund object, or of a charge's latest refund (``""``
    when it lists none); ``None`` when the charge is not shaped to tell."""
    if obj.get("object") == "charge":
        refunds = obj.get("refunds") or {}
        if not isinstance(refunds, dict):
            return None
        listed = refunds.get("data") or []
        if not isinstance(listed, list):
            return None
        obj = listed[0] if listed else {}
        if not isinstance(obj, dict):
            return None
    return obj.get("status", "")


def parse_stripe_event(event, kinds):
    """``normalize_event`` of ``event`` with the kind ``event_kind`` gives."""
    kind, reason = event_kind(event, kinds)
    return normalize_event(event, kind, reason)


def normalize_event(event, kind, reason=None):
    """A ``NormalizedEvent`` for a Stripe event whose kind is decided
    (``StripeAdapter.envelope``)."""
    obj = (event.get("data") or {}).get("object") or {}
    event_type = event.get("type", "")
    values = {
        "object_ref": obj.get("id", ""),
        "currency": (obj.get("currency") or "").upper(),
        "amount_minor": minor_units(obj, "amount"),
    }
    extra = {}
    meta = dict(obj.get("metadata") or {})
    if kind in PAYMENT_KINDS:
        fields, meta = _payment_fields(obj, event_type)
        values.update(fields)
        extra["fee_known"] = "fee_minor" in fields
    elif kind in ("refund_succeeded", "refund_failed") or reason:
        fields = _refund_fields(obj)
        extra["charge"] = fields.pop("charge")
        extra["balance_transaction"] = fields.pop("balance_transaction")
        values.update(fields)
        if reason:
            extra["reason"] = reason
        if obj.get("object") == "charge":
            meta = {}
    elif kind.startswith("dispute_"):
        values["payment_ref"] = _ref(obj.get("payment_intent"))
        values["status"] = obj.get("status", "")
        extra["charge"] = _ref(obj.get("charge"))
        if kind == "dispute_funds_withdrawn":
            values.update(_dispute_money(obj, -1, values))
            values["money"] = "out"
        elif kind == "dispute_closed" and values["status"] == "lost":
            # A lost dispute's funds have left the balance: whichever of this
            # and funds_withdrawn is processed first books the withdrawal, once
            # (one booking key per dispute), so any delivery order books it.
            values.update(_dispute_money(obj, -1, values))
            values["money"] = "out"
        elif kind == "dispute_funds_reinstated":
            # Negative when the gateway gives its dispute fee back.
            values.update(_dispute_money(obj, 1, values))
            values["money"] = "back"
    elif kind.startswith("payout_"):
        values["status"] = obj.get("status", "")
    elif kind in ("method_saved", "method_removed"):
        fields, more = _setup_fields(obj, event)
        values.update(fields)
        values["status"] = obj.get("status", "")
        extra.update(more)
    extra["metadata"] = meta
    return NormalizedEvent(
        external_id=event["id"],
        event_type=event_type,
        kind=kind,
        created=int(event.get("created") or 0),
        livemode=bool(event.get("livemode")),
        invoice_id=_int(meta.get("paycrm_invoice_id")),
        db=meta.get("paycrm_db", ""),
        extra=extra,
        **values,
    )
