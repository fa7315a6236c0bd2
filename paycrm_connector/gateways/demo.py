"""The built-in demo gateway: deterministic answers, no account, no network.

Its "hosted page" is served by the addon itself (``/paycrm/demo/checkout/<id>``),
so the adapter needs the server's public base URL, passed in
``GatewayConfig.extra["base_url"]`` by the caller (the adapter never reads the ORM).
"""

import json
import secrets
import time

from . import signature
from .base import CheckoutSession, GatewayAdapter, GatewayError

DEMO_CHECKOUT_PATH = "/paycrm/demo/checkout/"


class DemoAdapter(GatewayAdapter):
    code = "demo"

    def check_connection(self):
        return "demo gateway (no account needed)"

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        return reference or f"demo_cus_{customer.partner_id}"

    # ------------------------------------------------------------ checkout

    def create_checkout(self, request):
        base_url = (self.config.extra.get("base_url") or "").rstrip("/")
        if not base_url:
            raise GatewayError("the demo gateway needs the server's base URL")
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

    # -------------------------------------------------------------- events

    @staticmethod
    def fee(amount_minor):
        return round(amount_minor * 0.015) + 25

    @classmethod
    def payment_object(cls, session_id, amount_minor, currency, metadata, paid=True):
        """The ``data.object`` of a demo ``payment.succeeded/failed`` event."""
        return {
            "id": f"demo_pay_{secrets.token_hex(12)}",
            "object": "payment",
            "session": session_id,
            "amount": int(amount_minor),
            "currency": currency.lower(),
            "fee": cls.fee(amount_minor) if paid else 0,
            "status": "succeeded" if paid else "failed",
            "metadata": {key: str(value) for key, value in metadata.items()},
        }

    def build_event(self, event_type, obj):
        return {
            "id": f"evt_demo_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }

    def sign(self, payload):
        """``Paycrm-Signature`` header value for raw ``payload`` bytes."""
        return signature.header(payload, self.config.webhook_secret)

    @staticmethod
    def dumps(event):
        return json.dumps(event, separators=(",", ":")).encode()
