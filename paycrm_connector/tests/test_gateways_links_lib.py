"""Checkout parts of the plain-Python adapters, without the ORM."""

import json
import time

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector.gateways import (
    CheckoutRequest,
    DemoAdapter,
    GatewayConfig,
    GatewayError,
    GatewayRefused,
    StripeAdapter,
    get_adapter,
    signature,
)

from .stripe_standin import StripeStandin


def _request(**overrides):
    values = {
        "invoice_id": 7,
        "invoice_name": "INV/2026/00007",
        "amount_minor": 1999,
        "currency": "EUR",
        "success_url": "http://shop.test/done",
        "cancel_url": "http://shop.test/cancel",
        "expires_at": int(time.time()) + 3600,
        "idempotency_key": "paycrm-link-test-7-1999EUR-1",
        "customer_email": "ada@example.com",
        "metadata": {"paycrm_invoice_id": 7},
    }
    values.update(overrides)
    return CheckoutRequest(**values)


@tagged("post_install", "-at_install")
class TestStripeCheckoutLib(BaseCase):
    """A Stripe adapter on a fresh Stripe stand-in for each test."""

    def setUp(self):
        super().setUp()
        self.standin = StripeStandin().start()
        self.addCleanup(self.standin.stop)
        self.adapter = get_adapter(
            GatewayConfig(
                provider="stripe",
                secret_key="sk_test_lib",
                api_base=self.standin.url,
                max_retries=0,
            )
        )

    def test_stripe_checkout_without_customer_uses_email(self):
        standin, adapter = self.standin, self.adapter
        first = _request()
        session = adapter.create_checkout(first)
        params = standin.last("POST", "/v1/checkout/sessions").params
        self.assertEqual(params["customer_email"], "ada@example.com")
        self.assertNotIn("customer", params)
        self.assertEqual(params["metadata"], {"paycrm_invoice_id": "7"})
        self.assertEqual(
            (session.amount_minor, session.currency, session.status),
            (1999, "EUR", "open"),
        )
        # Same key, same parameters: Stripe replays the first session. (The
        # expiry is the first request's: a fresh one flaked on a second's turn.)
        again = adapter.create_checkout(_request(expires_at=first.expires_at))
        self.assertEqual(again.session_id, session.session_id)
        self.assertEqual(standin.idempotent_replays, 1)

    def test_stripe_refusal_and_expiry(self):
        standin, adapter = self.standin, self.adapter
        standin.fail_next(400, path_prefix="/v1/checkout/sessions")
        with self.assertRaises(GatewayRefused):
            adapter.create_checkout(_request())
        session = adapter.create_checkout(_request(idempotency_key="k2"))
        self.assertEqual(adapter.expire_checkout(session.session_id), "expired")
        # Already expired, or never existed: nothing left to close, no error.
        self.assertEqual(adapter.expire_checkout(session.session_id), "gone")
        self.assertEqual(adapter.expire_checkout("cs_missing"), "gone")


@tagged("post_install", "-at_install")
class TestCheckoutLib(BaseCase):
    def test_stripe_expiry_is_clamped_to_stripe_window(self):
        now = 1_800_000_000
        clamp = StripeAdapter.clamp_expiry
        self.assertEqual(clamp(now + 60, now=now), now + 1860)
        self.assertEqual(clamp(now + 48 * 3600, now=now), now + 24 * 3600 - 60)
        self.assertEqual(clamp(now + 7200, now=now), now + 7200)

    def test_demo_checkout_needs_base_url(self):
        with self.assertRaises(GatewayError):
            DemoAdapter(GatewayConfig(provider="demo")).create_checkout(_request())
        adapter = DemoAdapter(
            GatewayConfig(provider="demo", extra={"base_url": "http://odoo.test/"})
        )
        session = adapter.create_checkout(_request())
        self.assertTrue(session.session_id.startswith("demo_cs_"))
        self.assertEqual(
            session.url, f"http://odoo.test/paycrm/demo/checkout/{session.session_id}"
        )

    def test_demo_event_shape_and_signature(self):
        adapter = DemoAdapter(GatewayConfig(provider="demo", webhook_secret="s3cret"))
        obj = adapter.payment_object(
            "demo_cs_1", 10000, "EUR", {"paycrm_invoice_id": 7}
        )
        event = adapter.build_event("payment.succeeded", obj)
        self.assertTrue(event["id"].startswith("evt_demo_"))
        self.assertEqual(
            (event["object"], event["type"], event["livemode"]),
            ("event", "payment.succeeded", False),
        )
        data = event["data"]["object"]
        self.assertTrue(data["id"].startswith("demo_pay_"))
        self.assertEqual(
            (data["session"], data["amount"], data["currency"]),
            ("demo_cs_1", 10000, "eur"),
        )
        self.assertEqual((data["fee"], data["status"]), (175, "succeeded"))
        self.assertEqual(data["metadata"], {"paycrm_invoice_id": "7"})
        failed = adapter.payment_object("demo_cs_1", 10000, "EUR", {}, paid=False)
        self.assertEqual((failed["fee"], failed["status"]), (0, "failed"))
        payload = adapter.payload(event)
        self.assertEqual(json.loads(payload), event)
        signature.verify(payload, adapter.sign(payload), "s3cret")
        with self.assertRaises(signature.SignatureError):
            signature.verify(payload + b" ", adapter.sign(payload), "s3cret")
