"""The built-in demo gateway: deterministic answers, no account, no network.

Its "hosted page" is served by the addon itself (``/paycrm/demo/checkout/<id>``),
so the adapter needs the server's public base URL, passed in
``GatewayConfig.extra["base_url"]`` by the caller (the adapter never reads the ORM).
"""

import hashlib
import json
import secrets
import time
from datetime import date

from odoo.tools import LazyTranslate

from ..const import DEMO_EVENT_KINDS
from . import signature
from .base import (
    ChargeResult,
    CheckoutSession,
    GatewayAdapter,
    GatewayError,
    NormalizedEvent,
    SavedMethod,
    minor_units,
)
from .stripe_events import payment_method_values

_lt = LazyTranslate(__name__, default_lang="en_US")

SIGNATURE_HEADER = "Paycrm-Signature"
DEMO_CHECKOUT_PATH = "/paycrm/demo/checkout/"
# The demo page that only saves a method (``create_setup_checkout``).
DEMO_SETUP_PATH = "/paycrm/demo/setup/"
# Saved demo methods are ``pm_demo_<n>``; their prefix decides what a charge
# does (``charge_saved_method``): declined, the bank asks the customer to
# authenticate, a debit that settles later; anything else succeeds.
DEMO_METHOD_PREFIX = "pm_demo_"
DEMO_CHARGE_OUTCOMES = (
    ("pm_demo_declined", "declined", "card_declined"),
    ("pm_demo_auth", "requires_action", "authentication_required"),
    ("pm_demo_debit", "processing", ""),
)
DEMO_CHARGE_EVENTS = {
    "succeeded": "payment.succeeded",
    "processing": "payment.processing",
    "declined": "payment.failed",
    "requires_action": "payment.failed",
}


# What the demo checkout page offers the payer (payment method types).
DEMO_METHODS = ("card", "sepa_debit", "paypal")


def demo_fee(amount_minor):
    """The demo gateway's price: 1.5 % + 25 minor units per payment."""
    return round(amount_minor * 0.015) + 25


class DemoAdapter(GatewayAdapter):
    """A gateway without servers: its checkout page is the addon's own, and it
    hands its webhooks, signed, to the caller, which feeds them to the same
    intake a posted webhook goes through (never over HTTP)."""

    code = "demo"
    event_kinds = DEMO_EVENT_KINDS
    syncs_customers = False
    hosted_here = True
    generates_webhook_secret = True
    saves_methods = True
    method_types = ("card", "sepa_debit")

    def check_connection(self):
        return "demo gateway (no account needed)"

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        return reference or f"demo_cus_{customer.partner_id}"

    # -- checkout ------------------------------------------------------------

    def create_checkout(self, request):
        base_url = (self.config.extra.get("base_url") or "").rstrip("/")
        if not base_url:
            raise GatewayError(_lt("the demo gateway needs the server's base URL"))
        session_id = f"demo_cs_{secrets.token_hex(12)}"
        return CheckoutSession(
            session_id=session_id,
            url=f"{base_url}{DEMO_CHECKOUT_PATH}{session_id}",
            amount_minor=request.amount_minor,
            currency=request.currency.upper(),
            expires_at=request.expires_at,
        )

    def expire_checkout(self, session_id):
        # Demo sessions live only in our own table: nothing to close remotely.
        return "expired"

    @staticmethod
    def payment_object(
        session_id,
        amount_minor,
        currency,
        metadata,
        paid=True,
        method=None,
        attempt=0,
        method_ref="",
        customer_ref="",
    ):
        """The ``data.object`` of a demo ``payment.succeeded/failed`` event.

        Its id comes from the session (and ``attempt``, the declined tries
        before it): a session is paid once, so a repeated submit makes the
        same payment, whose event the event store takes once.
        ``method``: ``(type, card brand, card country)`` the payer chose on the
        demo page, sent as Stripe's ``payment_method_details``.
        ``method_ref``: the demo method (``pm_demo_<n>``) the payer asked to
        save for later (of the customer ``customer_ref``).
        """
        obj = {
            "id": f"demo_pay_{session_id}" + (f"_{attempt}" if attempt else ""),
            "object": "payment",
            "session": session_id,
            "amount": int(amount_minor),
            "currency": currency.lower(),
            "fee": demo_fee(amount_minor) if paid else 0,
            "status": "succeeded" if paid else "failed",
            "metadata": {key: str(value) for key, value in metadata.items()},
        }
        if method_ref:
            obj.update(
                payment_method=method_ref, customer=customer_ref, save_method=True
            )
        if method:
            kind, brand, country = method
            obj["payment_method_details"] = {"type": kind}
            if kind == "card":
                obj["payment_method_details"]["card"] = {
                    "brand": brand,
                    "country": country,
                }
        return obj

    # -- saved methods -------------------------------------------------------

    def create_setup_checkout(self, request):
        """The demo page that saves a demo card (``DEMO_SETUP_PATH``)."""
        base_url = (self.config.extra.get("base_url") or "").rstrip("/")
        if not base_url:
            raise GatewayError(_lt("the demo gateway needs the server's base URL"))
        session_id = f"demo_setup_{secrets.token_hex(12)}"
        return CheckoutSession(
            session_id=session_id,
            url=f"{base_url}{DEMO_SETUP_PATH}{session_id}",
            amount_minor=0,
            currency=(request.currency or "").upper(),
            expires_at=int(time.time()) + 24 * 3600,
        )

    def get_saved_method(self, method_ref):
        """A demo method: a Visa ending 4242 expiring in three years, or a
        SEPA account (``pm_demo_debit*``) with its mandate."""
        if not (method_ref or "").startswith(DEMO_METHOD_PREFIX):
            raise GatewayError(
                _lt("unknown demo payment method %(ref)s", ref=repr(method_ref))
            )
        if method_ref.startswith("pm_demo_debit"):
            return SavedMethod(
                method_ref=method_ref,
                method_type="sepa_debit",
                last4="3000",
                mandate_ref=f"mandate_{method_ref}",
                mandate_at=int(time.time()),
            )
        return SavedMethod(
            method_ref=method_ref,
            method_type="card",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=date.today().year + 3,
        )

    def charge_saved_method(self, request):
        """Answers by the method's prefix (``DEMO_CHARGE_OUTCOMES``), with the
        signed event of the outcome in ``webhook``: the same idempotency key
        makes the same payment and event."""
        status, code = "succeeded", ""
        for prefix, outcome, decline in DEMO_CHARGE_OUTCOMES:
            if request.method_ref.startswith(prefix):
                status, code = outcome, decline
                break
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        metadata = {"paycrm_invoice_id": str(request.invoice_id)} | {
            key: str(value) for key, value in request.metadata.items()
        }
        method = "sepa_debit" if status == "processing" else "card"
        obj = self.charge_object(
            f"demo_pay_{digest}", request, metadata, status, code, method
        )
        event = self.build_event(
            DEMO_CHARGE_EVENTS[status], obj, event_id=f"evt_{obj['id']}_{status}"
        )
        messages = {
            "declined": "Your card was declined.",
            "requires_action": "The bank asks the customer to authenticate.",
        }
        return ChargeResult(
            status=status,
            payment_ref=obj["id"],
            decline_code=code,
            message=messages.get(status, ""),
            webhook=self.webhook(event),
        )

    @staticmethod
    def charge_object(payment_id, request, metadata, status, decline_code, method):
        """The ``data.object`` of a demo off-session charge's event."""
        paid = status == "succeeded"
        obj = {
            "id": payment_id,
            "object": "payment",
            "amount": int(request.amount_minor),
            "currency": request.currency.lower(),
            "fee": demo_fee(request.amount_minor) if paid else 0,
            "status": "failed" if status in ("declined", "requires_action") else status,
            "customer": request.customer_ref,
            "payment_method": request.method_ref,
            "off_session": True,
            "metadata": metadata,
            "payment_method_details": {"type": method},
        }
        if method == "card":
            obj["payment_method_details"]["card"] = {"brand": "visa", "country": ""}
        if decline_code:
            obj["decline_code"] = decline_code
        return obj

    def debit_settled_webhook(self, payment_ref, request, succeeded=True):
        """``(payload, headers)`` of the event settling a processing demo debit
        (``payment.succeeded`` or ``payment.failed``) that ``request`` (the
        ``ChargeRequest``) started: the demo has no bank to wait for."""
        metadata = {"paycrm_invoice_id": str(request.invoice_id)} | {
            key: str(value) for key, value in request.metadata.items()
        }
        status = "succeeded" if succeeded else "declined"
        obj = self.charge_object(
            payment_ref,
            request,
            metadata,
            status,
            "" if succeeded else "insufficient_funds",
            "sepa_debit",
        )
        event = self.build_event(
            DEMO_CHARGE_EVENTS[status], obj, event_id=f"evt_{payment_ref}_{status}"
        )
        return self.webhook(event)

    def method_webhook(self, saved, metadata=None, removed=False):
        """``(payload, headers)`` of ``method.saved`` (or ``method.removed``)
        for ``saved`` (a ``SavedMethod``), as the demo pages bring it."""
        obj = {
            "id": saved.method_ref,
            "object": "payment_method",
            "type": saved.method_type,
            "customer": saved.customer_ref,
            "metadata": {key: str(value) for key, value in (metadata or {}).items()},
        }
        event_type = "method.removed" if removed else "method.saved"
        return self.webhook(
            self.build_event(
                event_type, obj, event_id=f"evt_{saved.method_ref}_{event_type}"
            )
        )

    def detach_method(self, method_ref):
        # Demo methods live only in our own table.
        return None

    # -- webhooks ------------------------------------------------------------

    @staticmethod
    def build_event(event_type, obj, event_id=None, created=None):
        """A demo webhook event (dict) carrying ``obj`` as ``data.object``."""
        return {
            "id": event_id or f"evt_demo_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(created or time.time()),
            "livemode": False,
            "data": {"object": obj},
        }

    def webhook(self, event):
        """``(payload, headers)`` of ``event`` as the gateway would post it:
        its raw body and its ``Paycrm-Signature``."""
        payload = self.payload(event)
        return payload, {SIGNATURE_HEADER: self.sign(payload)}

    def checkout_webhook(self, session_id, amount_minor, currency, metadata, **pay):
        """The webhook of a payment made (or declined) on the demo checkout
        page: ``payment.succeeded`` or ``payment.failed`` (``pay``: the
        ``payment_object`` options), its id derived from the payment's, so a
        repeated submit brings the same event."""
        obj = self.payment_object(session_id, amount_minor, currency, metadata, **pay)
        paid = pay.get("paid", True)
        event = self.build_event(
            "payment.succeeded" if paid else "payment.failed",
            obj,
            event_id=f"evt_{obj['id']}",
        )
        return self.webhook(event)

    def sign(self, payload, timestamp=None):
        """The ``Paycrm-Signature`` header value for a raw event body."""
        return signature.header(payload, self.config.webhook_secret, timestamp)

    def verify_webhook(self, payload, headers):
        signature.verify(
            payload, headers.get(SIGNATURE_HEADER), self.config.webhook_secret
        )

    def parse_event(self, event):
        envelope = self.envelope(event)
        obj = event["data"]["object"]
        kind = envelope.kind
        meta = obj.get("metadata") or {}
        status = obj.get("status", "")
        payment_ref = obj.get("payment", "") if obj.get("object") != "payment" else ""
        is_method = obj.get("object") == "payment_method"
        extra = {"metadata": meta}
        money = ""
        if kind == "dispute_opened":
            # The demo gateway takes the money back when a dispute opens, and
            # returns it when the merchant wins.
            money = "out"
        elif kind == "dispute_closed" and status == "won":
            money = "back"
        return NormalizedEvent(
            external_id=envelope.external_id,
            event_type=envelope.event_type,
            kind=kind,
            created=envelope.created or 0,
            livemode=envelope.livemode,
            object_ref=obj.get("id", ""),
            payment_ref=obj["id"] if obj.get("object") == "payment" else payment_ref,
            session_ref=obj.get("session", ""),
            invoice_id=_int(meta.get("paycrm_invoice_id")),
            db=meta.get("paycrm_db", ""),
            amount_minor=minor_units(obj, "amount"),
            currency=(obj.get("currency") or "").upper(),
            fee_minor=minor_units(obj, "fee"),
            # A demo account may settle in another currency, like Stripe's.
            settle_currency=(obj.get("settle_currency") or "").upper(),
            settle_amount_minor=minor_units(obj, "settle_amount"),
            status=status,
            money=money,
            method_ref=obj.get("id", "")
            if is_method
            else obj.get("payment_method", ""),
            customer_ref=obj.get("customer") or "",
            decline_code=obj.get("decline_code") or "",
            save_method=bool(obj.get("save_method")),
            extra=extra,
            **payment_method_values(obj.get("payment_method_details")),
        )

    @classmethod
    def refund_metadata(cls, payment_event):
        # Stripe's shape: the metadata the checkout gave the payment.
        obj = (payment_event.get("data") or {}).get("object") or {}
        return obj.get("metadata")

    def refund(
        self, payment_ref, amount_minor, idempotency_key, metadata=None, currency=None
    ):
        # The demo gateway refunds at once; its webhook is ``refund_webhook``.
        return f"demo_re_{idempotency_key[-24:]}"

    def refund_webhook(self, refund_ref, payment_ref, amount_minor, currency, metadata):
        event = self.build_event(
            "refund.succeeded",
            {
                "id": refund_ref,
                "object": "refund",
                "payment": payment_ref,
                "amount": amount_minor,
                "currency": currency.lower(),
                "status": "succeeded",
                "metadata": metadata or {},
            },
        )
        return self.webhook(event)

    @staticmethod
    def payload(event):
        return json.dumps(event, separators=(",", ":")).encode()


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
