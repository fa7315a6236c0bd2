"""Checkout parts of the plain-Python adapters, without the ORM."""

import json
import time

import pytest

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


@pytest.fixture
def stripe_pair():
    with StripeStandin() as standin:
        adapter = get_adapter(
            GatewayConfig(
                provider="stripe",
                secret_key="sk_test_lib",
                api_base=standin.url,
                max_retries=0,
            )
        )
        yield standin, adapter


def test_stripe_checkout_without_customer_uses_email(stripe_pair):
    standin, adapter = stripe_pair
    session = adapter.create_checkout(_request())
    params = standin.last("POST", "/v1/checkout/sessions").params
    assert params["customer_email"] == "ada@example.com"
    assert "customer" not in params
    assert params["metadata"] == {"paycrm_invoice_id": "7"}
    assert (session.amount_minor, session.currency, session.status) == (
        1999,
        "EUR",
        "open",
    )
    # Same key, same parameters: Stripe replays the first session.
    again = adapter.create_checkout(_request(expires_at=_request().expires_at))
    assert again.session_id == session.session_id
    assert standin.idempotent_replays == 1


def test_stripe_refusal_and_expiry(stripe_pair):
    standin, adapter = stripe_pair
    standin.fail_next(400, path_prefix="/v1/checkout/sessions")
    with pytest.raises(GatewayRefused):
        adapter.create_checkout(_request())
    session = adapter.create_checkout(_request(idempotency_key="k2"))
    assert adapter.expire_checkout(session.session_id) == "expired"
    # Already expired, or never existed: nothing left to close, no error.
    assert adapter.expire_checkout(session.session_id) == "gone"
    assert adapter.expire_checkout("cs_missing") == "gone"


def test_stripe_expiry_is_clamped_to_stripe_window():
    now = 1_800_000_000
    assert StripeAdapter.clamp_expiry(now + 60, now=now) == now + 1860
    assert StripeAdapter.clamp_expiry(now + 48 * 3600, now=now) == now + 24 * 3600 - 60
    assert StripeAdapter.clamp_expiry(now + 7200, now=now) == now + 7200


def test_demo_checkout_needs_base_url():
    with pytest.raises(GatewayError):
        DemoAdapter(GatewayConfig(provider="demo")).create_checkout(_request())
    adapter = DemoAdapter(
        GatewayConfig(provider="demo", extra={"base_url": "http://odoo.test/"})
    )
    session = adapter.create_checkout(_request())
    assert session.session_id.startswith("demo_cs_")
    assert session.url == f"http://odoo.test/paycrm/demo/checkout/{session.session_id}"


def test_demo_event_shape_and_signature():
    adapter = DemoAdapter(GatewayConfig(provider="demo", webhook_secret="s3cret"))
    obj = adapter.payment_object("demo_cs_1", 10000, "EUR", {"paycrm_invoice_id": 7})
    event = adapter.build_event("payment.succeeded", obj)
    assert event["id"].startswith("evt_demo_")
    assert (event["object"], event["type"], event["livemode"]) == (
        "event",
        "payment.succeeded",
        False,
    )
    data = event["data"]["object"]
    assert data["id"].startswith("demo_pay_")
    assert (data["session"], data["amount"], data["currency"]) == (
        "demo_cs_1",
        10000,
        "eur",
    )
    assert (data["fee"], data["status"]) == (175, "succeeded")
    assert data["metadata"] == {"paycrm_invoice_id": "7"}
    failed = adapter.payment_object("demo_cs_1", 10000, "EUR", {}, paid=False)
    assert (failed["fee"], failed["status"]) == (0, "failed")
    payload = adapter.payload(event)
    assert json.loads(payload) == event
    signature.verify(payload, adapter.sign(payload), "s3cret")
    with pytest.raises(signature.SignatureError):
        signature.verify(payload + b" ", adapter.sign(payload), "s3cret")
