"""The PayPal adapter against the local PayPal stand-in, without the ORM."""

import json

import pytest
import requests

from odoo.addons.paycrm_connector import const
from odoo.addons.paycrm_connector.gateways import (
    CheckoutRequest,
    CustomerData,
    GatewayAuthError,
    GatewayConfig,
    GatewayRefused,
    GatewayUnreachable,
    PayloadError,
    PaypalAdapter,
    get_adapter,
    paypal,
)
from odoo.addons.paycrm_connector.gateways.signature import SignatureError

from .common import free_port
from .paypal_standin import WEBHOOK_ID, PaypalStandin, make_event, webhook_headers


@pytest.fixture
def standin():
    paypal.clear_token_cache()
    with PaypalStandin() as server:
        yield server
    paypal.clear_token_cache()


def adapter_for(standin, secret="secret_test", retries=0, timeout=5.0, **extra):
    config = GatewayConfig(
        provider="paypal",
        secret_key=secret,
        api_base=standin.url,
        timeout=timeout,
        max_retries=retries,
        extra={"client_id": "client_test", "webhook_id": WEBHOOK_ID, **extra},
    )
    return get_adapter(config)


def checkout(amount_minor=1234, currency="EUR", key="link-1", **meta):
    return CheckoutRequest(
        invoice_id=42,
        invoice_name="INV/2025/00042",
        amount_minor=amount_minor,
        currency=currency,
        success_url="https://erp.example.com/paycrm/return",
        cancel_url="https://erp.example.com/paycrm/cancel",
        expires_at=0,
        idempotency_key=key,
        customer_email="ada@example.com",
        metadata={const.META_DB: "paycrm", **meta},
    )


def paid_order(standin, adapter, amount_minor=10000, currency="EUR"):
    session = adapter.create_checkout(checkout(amount_minor, currency))
    standin.approve_order(session.session_id)
    return adapter.capture_order(session.session_id, "capture-1")


def test_registered_and_no_network_customer():
    adapter = get_adapter(GatewayConfig(provider="paypal", extra={"client_id": "x"}))
    assert isinstance(adapter, PaypalAdapter)
    assert adapter.api_base == paypal.SANDBOX_API_BASE
    live = get_adapter(GatewayConfig(provider="paypal", live=True))
    assert live.api_base == paypal.LIVE_API_BASE
    assert adapter.upsert_customer(CustomerData(partner_id=7, name="A")) == "paypal_7"
    assert ("paypal", "PayPal") in const.PROVIDERS


def test_connection_and_token_cached_across_calls(standin):
    adapter = adapter_for(standin)
    assert adapter.check_connection() == "connected to PayPal (sandbox)"
    token_call = standin.last("POST", "/v1/oauth2/token")
    assert token_call.headers["Authorization"].startswith("Basic ")
    assert token_call.body == b"grant_type=client_credentials"
    session = adapter.create_checkout(checkout())
    adapter.get_order(session.session_id)
    # A second adapter of the same gateway (another request) reuses the token.
    adapter_for(standin).get_order(session.session_id)
    assert len(standin.calls("POST", "/v1/oauth2/token")) == 1
    assert len(standin.calls(path_prefix="/v2/")) == 3


def test_short_lived_token_renewed_before_it_lapses(standin):
    standin.token_lifetime = paypal.TOKEN_EXPIRY_MARGIN - 1
    adapter = adapter_for(standin)
    adapter.create_checkout(checkout(key="a"))
    adapter.create_checkout(checkout(key="b"))
    assert len(standin.calls("POST", "/v1/oauth2/token")) == 2


def test_token_expiry_mid_session(standin):
    adapter = adapter_for(standin)
    session = adapter.create_checkout(checkout())
    standin.expire_tokens()
    order = adapter.get_order(session.session_id)
    assert order["id"] == session.session_id
    statuses = [(r.path, r.status) for r in standin.requests]
    assert statuses[-3:] == [
        (f"/v2/checkout/orders/{session.session_id}", 401),
        ("/v1/oauth2/token", 200),
        (f"/v2/checkout/orders/{session.session_id}", 200),
    ]


def test_bad_credentials(standin):
    adapter = adapter_for(standin, secret="wrong")
    with pytest.raises(GatewayAuthError) as err:
        adapter.check_connection()
    assert str(err.value) == "authentication failed — check the client id and secret"
    with pytest.raises(GatewayAuthError):
        adapter.create_checkout(checkout())
    assert not standin.calls(path_prefix="/v2/"), "nothing sent without a token"


def test_missing_client_id(standin):
    adapter = adapter_for(standin, client_id="")
    with pytest.raises(GatewayAuthError, match="no client id configured"):
        adapter.check_connection()
    assert not standin.requests


def test_unreachable():
    config = GatewayConfig(
        provider="paypal",
        secret_key="s",
        api_base=f"http://127.0.0.1:{free_port()}",
        timeout=1.5,
        max_retries=0,
        extra={"client_id": "c"},
    )
    with pytest.raises(GatewayUnreachable) as err:
        get_adapter(config).check_connection()
    assert "connection refused or host not found" in str(err.value)


def test_timeout(standin):
    standin.delay = 1.0
    with pytest.raises(GatewayUnreachable, match="timeout after 0.2 s"):
        adapter_for(standin, timeout=0.2).check_connection()


def test_server_error_without_retries(standin):
    standin.fail_next(500, path_prefix="/v1/oauth2/token")
    with pytest.raises(GatewayUnreachable) as err:
        adapter_for(standin).check_connection()
    assert str(err.value) == "gateway error (HTTP 500) — try again later"


def test_server_error_retried_with_same_request_id(standin):
    adapter = adapter_for(standin, retries=2)
    adapter.check_connection()
    standin.fail_next(503, count=1, path_prefix="/v2/checkout/orders")
    session = adapter.create_checkout(checkout(key="retry-key"))
    creates = standin.calls("POST", "/v2/checkout/orders")
    assert [r.status for r in creates] == [503, 201]
    assert {r.headers["PayPal-Request-Id"] for r in creates} == {"retry-key"}
    assert len(standin.orders) == 1 and session.session_id in standin.orders


def test_every_post_carries_a_request_id(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter)
    adapter.refund_capture(capture.capture_id, 500, "EUR", "refund-1")
    event = json.dumps(standin.capture_event(capture.capture_id)).encode()
    adapter.verify_webhook(event, webhook_headers(event, WEBHOOK_ID))
    posts = [r for r in standin.calls("POST") if r.path != "/v1/oauth2/token"]
    assert len(posts) == 4
    assert all(r.headers.get("PayPal-Request-Id") for r in posts)
    assert [r.headers["PayPal-Request-Id"] for r in posts[:3]] == [
        "link-1",
        "capture-1",
        "refund-1",
    ]


def test_replayed_create_returns_the_same_order(standin):
    adapter = adapter_for(standin)
    first = adapter.create_checkout(checkout(key="same"))
    again = adapter.create_checkout(checkout(key="same"))
    assert first.session_id == again.session_id and len(standin.orders) == 1


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [(1234, "EUR", "12.34"), (5, "USD", "0.05"), (1500, "JPY", "1500")],
)
def test_checkout_amount_as_decimal_string(standin, minor, currency, value):
    adapter = adapter_for(standin)
    session = adapter.create_checkout(checkout(minor, currency, link="9"))
    assert session.url.endswith(f"checkoutnow?token={session.session_id}")
    assert (session.amount_minor, session.currency) == (minor, currency)
    body = standin.orders[session.session_id]["request"]
    assert body["intent"] == "CAPTURE"
    unit = body["purchase_units"][0]
    assert unit["amount"] == {"currency_code": currency, "value": value}
    assert unit["custom_id"] == "inv=42&db=paycrm"
    assert unit["invoice_id"] == "INV/2025/00042"
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://erp.example.com/paycrm/return"
    assert context["cancel_url"] == "https://erp.example.com/paycrm/cancel"


def test_checkout_with_link_carries_it_and_caps_expiry(standin):
    adapter = adapter_for(standin)
    request = checkout(**{const.META_LINK_ID: 7})
    session = adapter.create_checkout(request)
    unit = standin.orders[session.session_id]["request"]["purchase_units"][0]
    assert unit["custom_id"] == "inv=42&link=7&db=paycrm"
    assert unit["invoice_id"] == "INV/2025/00042-7"
    assert paypal.decode_custom_id(unit["custom_id"]) == {
        "inv": 42,
        "link": 7,
        "db": "paycrm",
    }
    assert session.expires_at > 0


def test_currency_refused_before_any_call(standin):
    adapter = adapter_for(standin)
    with pytest.raises(GatewayRefused, match="PayPal does not accept KWD"):
        adapter.create_checkout(checkout(1000, "KWD"))
    assert adapter.currency_exponent("HUF", 2) == 0
    assert adapter.currency_exponent("EUR", 2) == 2
    assert not standin.requests


def test_capture_and_already_captured_is_idempotent(standin):
    adapter = adapter_for(standin)
    first = paid_order(standin, adapter, 10000)
    assert first.status == "COMPLETED"
    assert (first.amount_minor, first.currency, first.invoice_id) == (10000, "EUR", 42)
    assert first.fee_minor == 398  # 3.49 % + 0.49 (the stand-in's price list)
    # The customer reloads the return page: another request id, same order.
    again = adapter.capture_order(first.order_id, "capture-2")
    assert again == first
    assert standin.last("POST", "/v2/checkout/orders/").status == 422
    assert len(standin.captures) == 1


def test_capture_before_approval_and_unknown_order(standin):
    adapter = adapter_for(standin)
    session = adapter.create_checkout(checkout())
    with pytest.raises(GatewayRefused) as err:
        adapter.capture_order(session.session_id, "c")
    assert err.value.issue == "ORDER_NOT_APPROVED"
    with pytest.raises(GatewayRefused) as err:
        adapter.capture_order("NOSUCHORDER", "c2")
    assert err.value.http_status == 404
    assert "INVALID_RESOURCE_ID" in str(err.value)
    with pytest.raises(GatewayRefused):
        adapter.get_order("../../v1/oauth2/token")
    assert (
        standin.last("GET").path == "/v2/checkout/orders/..%2F..%2Fv1%2Foauth2%2Ftoken"
    )


def test_refund_partial_then_too_much(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter, 10000)
    refund = adapter.refund_capture(capture.capture_id, 2550, "EUR", "r1")
    assert (refund.amount_minor, refund.currency, refund.status) == (
        2550,
        "EUR",
        "COMPLETED",
    )
    assert standin.last("POST").json["amount"] == {
        "currency_code": "EUR",
        "value": "25.50",
    }
    with pytest.raises(GatewayRefused) as err:
        adapter.refund_capture(capture.capture_id, 8000, "EUR", "r2")
    assert err.value.issue == "REFUND_AMOUNT_EXCEEDED"
    assert len(standin.refunds) == 1


def _signed(standin, capture_id):
    payload = json.dumps(standin.capture_event(capture_id), indent=1).encode()
    return payload, webhook_headers(payload, WEBHOOK_ID)


def test_verify_webhook_success_sends_raw_event(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter)
    payload, headers = _signed(standin, capture.capture_id)
    event = adapter.verify_webhook(payload, {k.lower(): v for k, v in headers.items()})
    assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    sent = standin.last("POST", "/v1/notifications/verify-webhook-signature")
    assert sent.json["webhook_id"] == WEBHOOK_ID
    assert sent.json["auth_algo"] == "SHA256withRSA"
    assert payload in sent.body, "the event travels byte for byte"


def test_verify_webhook_failure(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter)
    payload, headers = _signed(standin, capture.capture_id)
    tampered = payload.replace(b'"100.00"', b'"1000.00"')
    with pytest.raises(SignatureError, match="did not confirm"):
        adapter.verify_webhook(tampered, headers)
    standin.valid_signatures = False
    with pytest.raises(SignatureError):
        adapter.verify_webhook(payload, headers)
    other = adapter_for(standin, webhook_id="OTHERHOOK")
    standin.valid_signatures = True
    with pytest.raises(SignatureError):
        other.verify_webhook(payload, headers)


@pytest.mark.parametrize(
    ("headers", "payload", "error", "message"),
    [
        ({}, b"{}", SignatureError, "missing PayPal transmission headers"),
        # Not a signature matter: the intake answers 400 naming the body.
        (None, b"not json", PayloadError, "body"),
    ],
)
def test_verify_webhook_bad_input_never_calls(
    standin, headers, payload, error, message
):
    if headers is None:
        headers = webhook_headers({"id": "x"}, WEBHOOK_ID)
    with pytest.raises(error, match=message):
        adapter_for(standin).verify_webhook(payload, headers)
    assert not standin.calls(path_prefix="/v1/notifications")


def test_verify_webhook_api_down_is_not_a_verdict(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter)
    payload, headers = _signed(standin, capture.capture_id)
    standin.fail_next(503, path_prefix="/v1/notifications")
    with pytest.raises(GatewayUnreachable):
        adapter.verify_webhook(payload, headers)
    # Later, PayPal is back: the stored event verifies.
    assert adapter.verify_webhook(payload, headers)["id"]


def test_parse_capture_events(standin):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter, 10000)
    for event_type, kind in [
        ("PAYMENT.CAPTURE.COMPLETED", "payment_succeeded"),
        ("PAYMENT.CAPTURE.DENIED", "payment_failed"),
    ]:
        event = standin.capture_event(capture.capture_id, event_type)
        parsed = adapter.parse_event(json.loads(json.dumps(event)))
        assert parsed.kind == kind
        assert parsed.external_id == event["id"]
        assert parsed.payment_ref == parsed.object_ref == capture.capture_id
        assert parsed.session_ref == capture.order_id
        assert (parsed.invoice_id, parsed.db) == (42, "paycrm")
        assert (parsed.amount_minor, parsed.currency) == (10000, "EUR")
        assert parsed.fee_minor == (398 if kind == "payment_succeeded" else 0)
        assert parsed.created > 0 and parsed.livemode is False


def test_parse_pending_capture(standin):
    standin.next_capture_status = "PENDING"
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter, 1500, "JPY")
    assert (capture.status, capture.fee_minor) == ("PENDING", 0)
    event = standin.capture_event(capture.capture_id, "PAYMENT.CAPTURE.PENDING")
    parsed = adapter.parse_event(event)
    assert (parsed.kind, parsed.status) == ("payment_pending", "PENDING")
    assert (parsed.amount_minor, parsed.currency, parsed.fee_minor) == (1500, "JPY", 0)
    assert parsed.extra["status_reason"] == "PENDING_REVIEW"


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("PAYMENT.CAPTURE.REFUNDED", "refund_succeeded"),
        ("PAYMENT.CAPTURE.REVERSED", "dispute_funds_withdrawn"),
    ],
)
def test_parse_refund_events(standin, event_type, kind):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter, 10000)
    refund = adapter.refund_capture(capture.capture_id, 4000, "EUR", "r")
    parsed = adapter.parse_event(standin.refund_event(refund.refund_id, event_type))
    assert parsed.kind == kind
    assert parsed.object_ref == refund.refund_id
    assert parsed.payment_ref == capture.capture_id
    assert (parsed.amount_minor, parsed.invoice_id) == (4000, 42)
    assert parsed.extra["fee_refunded_minor"] == 140  # 3.49 % of 40.00


RESOLVED = "CUSTOMER.DISPUTE.RESOLVED"
CAPTURE_URL = f"{paypal.LIVE_API_BASE}/v2/payments/captures/C1"


def test_parse_negative_reversal_amount():
    resource = {
        "id": "REV1",
        "amount": {"currency_code": "USD", "value": "-100.00"},
        "links": [
            {"rel": "up", "href": f"{paypal.LIVE_API_BASE}/v2/payments/captures/C1"}
        ],
    }
    event = make_event("PAYMENT.CAPTURE.REVERSED", "refund", resource)
    parsed = PaypalAdapter(GatewayConfig(provider="paypal")).parse_event(event)
    assert (parsed.amount_minor, parsed.payment_ref) == (10000, "C1")


@pytest.mark.parametrize(
    ("event_type", "outcome", "kind", "status", "money"),
    [
        ("CUSTOMER.DISPUTE.CREATED", "", "dispute_opened", "OPEN", ""),
        (
            "CUSTOMER.DISPUTE.RESOLVED",
            "RESOLVED_SELLER_FAVOUR",
            "dispute_closed",
            "won",
            "release",
        ),
        (
            "CUSTOMER.DISPUTE.RESOLVED",
            "RESOLVED_BUYER_FAVOUR",
            "dispute_closed",
            "lost",
            "out",
        ),
    ],
)
def test_parse_dispute_events(standin, event_type, outcome, kind, status, money):
    adapter = adapter_for(standin)
    capture = paid_order(standin, adapter, 10000)
    amount = {"currency_code": "EUR", "value": "30.00"}
    event = standin.dispute_event(capture.capture_id, event_type, outcome, amount)
    parsed = adapter.parse_event(event)
    assert (parsed.kind, parsed.status, parsed.money) == (kind, status, money)
    # What the money does is keyed by the capture: a reversal of the same
    # capture and a lost dispute take it once.
    assert parsed.money_ref == (capture.capture_id if money else "")
    assert parsed.object_ref.startswith("PP-D-")
    assert parsed.payment_ref == capture.capture_id
    assert (parsed.amount_minor, parsed.currency, parsed.invoice_id) == (
        3000,
        "EUR",
        42,
    )


def test_parse_unknown_event_type():
    event = make_event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "O1"})
    parsed = PaypalAdapter(GatewayConfig(provider="paypal")).parse_event(event)
    assert parsed.kind == "other" and parsed.invoice_id is None


def test_injected_session_is_used(standin):
    session = requests.Session()
    adapter = PaypalAdapter(adapter_for(standin).config, session=session)
    assert adapter.session is session
    assert adapter.check_connection().startswith("connected")
