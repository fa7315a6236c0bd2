"""The PayPal adapter against the local PayPal stand-in, without the ORM."""

import json

import requests

from odoo.tests import tagged
from odoo.tests.common import BaseCase

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


def _signed(standin, capture_id):
    payload = json.dumps(standin.capture_event(capture_id), indent=1).encode()
    return payload, webhook_headers(payload, WEBHOOK_ID)


class PaypalStandinCase(BaseCase):
    """A fresh PayPal stand-in (``self.standin``) and token cache for each test."""

    def setUp(self):
        super().setUp()
        self.standin = self._start_standin()

    def _start_standin(self):
        """Another fresh stand-in: each parametrised case of a test takes one,
        since orders and request ids replay within one stand-in."""
        paypal.clear_token_cache()
        self.addCleanup(paypal.clear_token_cache)
        standin = PaypalStandin().start()
        self.addCleanup(standin.stop)
        return standin


@tagged("post_install", "-at_install")
class TestPaypalAdapterOffline(BaseCase):
    """What the adapter does without calling PayPal."""

    def test_registered_and_no_network_customer(self):
        adapter = get_adapter(
            GatewayConfig(provider="paypal", extra={"client_id": "x"})
        )
        self.assertIsInstance(adapter, PaypalAdapter)
        self.assertEqual(adapter.api_base, paypal.SANDBOX_API_BASE)
        live = get_adapter(GatewayConfig(provider="paypal", live=True))
        self.assertEqual(live.api_base, paypal.LIVE_API_BASE)
        self.assertEqual(
            adapter.upsert_customer(CustomerData(partner_id=7, name="A")), "paypal_7"
        )
        self.assertIn(("paypal", "PayPal"), const.PROVIDERS)

    def test_unreachable(self):
        config = GatewayConfig(
            provider="paypal",
            secret_key="s",
            api_base=f"http://127.0.0.1:{free_port()}",
            timeout=1.5,
            max_retries=0,
            extra={"client_id": "c"},
        )
        with self.assertRaises(GatewayUnreachable) as err:
            get_adapter(config).check_connection()
        self.assertIn("connection refused or host not found", str(err.exception))

    def test_parse_negative_reversal_amount(self):
        resource = {
            "id": "REV1",
            "amount": {"currency_code": "USD", "value": "-100.00"},
            "links": [
                {
                    "rel": "up",
                    "href": f"{paypal.LIVE_API_BASE}/v2/payments/captures/C1",
                }
            ],
        }
        event = make_event("PAYMENT.CAPTURE.REVERSED", "refund", resource)
        parsed = PaypalAdapter(GatewayConfig(provider="paypal")).parse_event(event)
        self.assertEqual((parsed.amount_minor, parsed.payment_ref), (10000, "C1"))

    def test_parse_unknown_event_type(self):
        event = make_event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "O1"})
        parsed = PaypalAdapter(GatewayConfig(provider="paypal")).parse_event(event)
        self.assertEqual(parsed.kind, "other")
        self.assertIsNone(parsed.invoice_id)


@tagged("post_install", "-at_install")
class TestPaypalAdapterConnection(PaypalStandinCase):
    """Tokens, credentials, timeouts, retries and request ids."""

    def test_connection_and_token_cached_across_calls(self):
        standin = self.standin
        adapter = adapter_for(standin)
        self.assertEqual(adapter.check_connection(), "connected to PayPal (sandbox)")
        token_call = standin.last("POST", "/v1/oauth2/token")
        self.assertTrue(token_call.headers["Authorization"].startswith("Basic "))
        self.assertEqual(token_call.body, b"grant_type=client_credentials")
        session = adapter.create_checkout(checkout())
        adapter.get_order(session.session_id)
        # A second adapter of the same gateway (another request) reuses the token.
        adapter_for(standin).get_order(session.session_id)
        self.assertEqual(len(standin.calls("POST", "/v1/oauth2/token")), 1)
        self.assertEqual(len(standin.calls(path_prefix="/v2/")), 3)

    def test_short_lived_token_renewed_before_it_lapses(self):
        standin = self.standin
        standin.token_lifetime = paypal.TOKEN_EXPIRY_MARGIN - 1
        adapter = adapter_for(standin)
        adapter.create_checkout(checkout(key="a"))
        adapter.create_checkout(checkout(key="b"))
        self.assertEqual(len(standin.calls("POST", "/v1/oauth2/token")), 2)

    def test_token_expiry_mid_session(self):
        standin = self.standin
        adapter = adapter_for(standin)
        session = adapter.create_checkout(checkout())
        standin.expire_tokens()
        order = adapter.get_order(session.session_id)
        self.assertEqual(order["id"], session.session_id)
        statuses = [(r.path, r.status) for r in standin.requests]
        self.assertEqual(
            statuses[-3:],
            [
                (f"/v2/checkout/orders/{session.session_id}", 401),
                ("/v1/oauth2/token", 200),
                (f"/v2/checkout/orders/{session.session_id}", 200),
            ],
        )

    def test_bad_credentials(self):
        standin = self.standin
        adapter = adapter_for(standin, secret="wrong")
        with self.assertRaises(GatewayAuthError) as err:
            adapter.check_connection()
        self.assertEqual(
            str(err.exception),
            "authentication failed — check the client id and secret",
        )
        with self.assertRaises(GatewayAuthError):
            adapter.create_checkout(checkout())
        self.assertFalse(
            standin.calls(path_prefix="/v2/"), "nothing sent without a token"
        )

    def test_missing_client_id(self):
        adapter = adapter_for(self.standin, client_id="")
        with self.assertRaisesRegex(GatewayAuthError, "no client id configured"):
            adapter.check_connection()
        self.assertFalse(self.standin.requests)

    def test_timeout(self):
        self.standin.delay = 1.0
        with self.assertRaisesRegex(GatewayUnreachable, "timeout after 0.2 s"):
            adapter_for(self.standin, timeout=0.2).check_connection()

    def test_server_error_without_retries(self):
        self.standin.fail_next(500, path_prefix="/v1/oauth2/token")
        with self.assertRaises(GatewayUnreachable) as err:
            adapter_for(self.standin).check_connection()
        self.assertEqual(
            str(err.exception), "gateway error (HTTP 500) — try again later"
        )

    def test_server_error_retried_with_same_request_id(self):
        standin = self.standin
        adapter = adapter_for(standin, retries=2)
        adapter.check_connection()
        standin.fail_next(503, count=1, path_prefix="/v2/checkout/orders")
        session = adapter.create_checkout(checkout(key="retry-key"))
        creates = standin.calls("POST", "/v2/checkout/orders")
        self.assertEqual([r.status for r in creates], [503, 201])
        self.assertEqual(
            {r.headers["PayPal-Request-Id"] for r in creates}, {"retry-key"}
        )
        self.assertEqual(len(standin.orders), 1)
        self.assertIn(session.session_id, standin.orders)

    def test_every_post_carries_a_request_id(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter)
        adapter.refund_capture(capture.capture_id, 500, "EUR", "refund-1")
        event = json.dumps(standin.capture_event(capture.capture_id)).encode()
        adapter.verify_webhook(event, webhook_headers(event, WEBHOOK_ID))
        posts = [r for r in standin.calls("POST") if r.path != "/v1/oauth2/token"]
        self.assertEqual(len(posts), 4)
        self.assertTrue(all(r.headers.get("PayPal-Request-Id") for r in posts))
        self.assertEqual(
            [r.headers["PayPal-Request-Id"] for r in posts[:3]],
            ["link-1", "capture-1", "refund-1"],
        )

    def test_injected_session_is_used(self):
        session = requests.Session()
        adapter = PaypalAdapter(adapter_for(self.standin).config, session=session)
        self.assertIs(adapter.session, session)
        self.assertTrue(adapter.check_connection().startswith("connected"))


@tagged("post_install", "-at_install")
class TestPaypalAdapterOrders(PaypalStandinCase):
    """Orders, captures and refunds."""

    def test_replayed_create_returns_the_same_order(self):
        adapter = adapter_for(self.standin)
        first = adapter.create_checkout(checkout(key="same"))
        again = adapter.create_checkout(checkout(key="same"))
        self.assertEqual(first.session_id, again.session_id)
        self.assertEqual(len(self.standin.orders), 1)

    def test_checkout_amount_as_decimal_string(self):
        for minor, currency, value in [
            (1234, "EUR", "12.34"),
            (5, "USD", "0.05"),
            (1500, "JPY", "1500"),
        ]:
            with self.subTest(currency=currency, minor=minor):
                standin = self._start_standin()
                adapter = adapter_for(standin)
                session = adapter.create_checkout(checkout(minor, currency, link="9"))
                self.assertTrue(
                    session.url.endswith(f"checkoutnow?token={session.session_id}")
                )
                self.assertEqual(
                    (session.amount_minor, session.currency), (minor, currency)
                )
                body = standin.orders[session.session_id]["request"]
                self.assertEqual(body["intent"], "CAPTURE")
                unit = body["purchase_units"][0]
                self.assertEqual(
                    unit["amount"], {"currency_code": currency, "value": value}
                )
                self.assertEqual(unit["custom_id"], "inv=42&db=paycrm")
                self.assertEqual(unit["invoice_id"], "INV/2025/00042")
                context = body["payment_source"]["paypal"]["experience_context"]
                self.assertEqual(
                    context["return_url"], "https://erp.example.com/paycrm/return"
                )
                self.assertEqual(
                    context["cancel_url"], "https://erp.example.com/paycrm/cancel"
                )

    def test_checkout_with_link_carries_it_and_caps_expiry(self):
        adapter = adapter_for(self.standin)
        request = checkout(**{const.META_LINK_ID: 7})
        session = adapter.create_checkout(request)
        unit = self.standin.orders[session.session_id]["request"]["purchase_units"][0]
        self.assertEqual(unit["custom_id"], "inv=42&link=7&db=paycrm")
        self.assertEqual(unit["invoice_id"], "INV/2025/00042-7")
        self.assertEqual(
            paypal.decode_custom_id(unit["custom_id"]),
            {"inv": 42, "link": 7, "db": "paycrm"},
        )
        self.assertGreater(session.expires_at, 0)

    def test_currency_refused_before_any_call(self):
        adapter = adapter_for(self.standin)
        with self.assertRaisesRegex(GatewayRefused, "PayPal does not accept KWD"):
            adapter.create_checkout(checkout(1000, "KWD"))
        self.assertEqual(adapter.currency_exponent("HUF", 2), 0)
        self.assertEqual(adapter.currency_exponent("EUR", 2), 2)
        self.assertFalse(self.standin.requests)

    def test_capture_and_already_captured_is_idempotent(self):
        standin = self.standin
        adapter = adapter_for(standin)
        first = paid_order(standin, adapter, 10000)
        self.assertEqual(first.status, "COMPLETED")
        self.assertEqual(
            (first.amount_minor, first.currency, first.invoice_id), (10000, "EUR", 42)
        )
        self.assertEqual(first.fee_minor, 398)  # 3.49 % + 0.49 (stand-in's prices)
        # The customer reloads the return page: another request id, same order.
        again = adapter.capture_order(first.order_id, "capture-2")
        self.assertEqual(again, first)
        self.assertEqual(standin.last("POST", "/v2/checkout/orders/").status, 422)
        self.assertEqual(len(standin.captures), 1)

    def test_capture_before_approval_and_unknown_order(self):
        standin = self.standin
        adapter = adapter_for(standin)
        session = adapter.create_checkout(checkout())
        with self.assertRaises(GatewayRefused) as err:
            adapter.capture_order(session.session_id, "c")
        self.assertEqual(err.exception.issue, "ORDER_NOT_APPROVED")
        with self.assertRaises(GatewayRefused) as err:
            adapter.capture_order("NOSUCHORDER", "c2")
        self.assertEqual(err.exception.http_status, 404)
        self.assertIn("INVALID_RESOURCE_ID", str(err.exception))
        with self.assertRaises(GatewayRefused):
            adapter.get_order("../../v1/oauth2/token")
        self.assertEqual(
            standin.last("GET").path,
            "/v2/checkout/orders/..%2F..%2Fv1%2Foauth2%2Ftoken",
        )

    def test_refund_partial_then_too_much(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter, 10000)
        refund = adapter.refund_capture(capture.capture_id, 2550, "EUR", "r1")
        self.assertEqual(
            (refund.amount_minor, refund.currency, refund.status),
            (2550, "EUR", "COMPLETED"),
        )
        self.assertEqual(
            standin.last("POST").json["amount"],
            {"currency_code": "EUR", "value": "25.50"},
        )
        with self.assertRaises(GatewayRefused) as err:
            adapter.refund_capture(capture.capture_id, 8000, "EUR", "r2")
        self.assertEqual(err.exception.issue, "REFUND_AMOUNT_EXCEEDED")
        self.assertEqual(len(standin.refunds), 1)


@tagged("post_install", "-at_install")
class TestPaypalAdapterWebhooks(PaypalStandinCase):
    """Webhook verification and parsing into normalised events."""

    def test_verify_webhook_success_sends_raw_event(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter)
        payload, headers = _signed(standin, capture.capture_id)
        lowered = {k.lower(): v for k, v in headers.items()}
        event = adapter.verify_webhook(payload, lowered)
        self.assertEqual(event["event_type"], "PAYMENT.CAPTURE.COMPLETED")
        sent = standin.last("POST", "/v1/notifications/verify-webhook-signature")
        self.assertEqual(sent.json["webhook_id"], WEBHOOK_ID)
        self.assertEqual(sent.json["auth_algo"], "SHA256withRSA")
        self.assertIn(payload, sent.body, "the event travels byte for byte")

    def test_verify_webhook_failure(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter)
        payload, headers = _signed(standin, capture.capture_id)
        tampered = payload.replace(b'"100.00"', b'"1000.00"')
        with self.assertRaisesRegex(SignatureError, "did not confirm"):
            adapter.verify_webhook(tampered, headers)
        standin.valid_signatures = False
        with self.assertRaises(SignatureError):
            adapter.verify_webhook(payload, headers)
        other = adapter_for(standin, webhook_id="OTHERHOOK")
        standin.valid_signatures = True
        with self.assertRaises(SignatureError):
            other.verify_webhook(payload, headers)

    def test_verify_webhook_bad_input_never_calls(self):
        for headers, payload, error, message in [
            ({}, b"{}", SignatureError, "missing PayPal transmission headers"),
            # Not a signature matter: the intake answers 400 naming the body.
            (None, b"not json", PayloadError, "body"),
        ]:
            with self.subTest(error=error.__name__):
                standin = self._start_standin()
                if headers is None:
                    headers = webhook_headers({"id": "x"}, WEBHOOK_ID)
                with self.assertRaisesRegex(error, message):
                    adapter_for(standin).verify_webhook(payload, headers)
                self.assertFalse(standin.calls(path_prefix="/v1/notifications"))

    def test_verify_webhook_api_down_is_not_a_verdict(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter)
        payload, headers = _signed(standin, capture.capture_id)
        standin.fail_next(503, path_prefix="/v1/notifications")
        with self.assertRaises(GatewayUnreachable):
            adapter.verify_webhook(payload, headers)
        # Later, PayPal is back: the stored event verifies.
        self.assertTrue(adapter.verify_webhook(payload, headers)["id"])

    def test_parse_capture_events(self):
        standin = self.standin
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter, 10000)
        for event_type, kind in [
            ("PAYMENT.CAPTURE.COMPLETED", "payment_succeeded"),
            ("PAYMENT.CAPTURE.DENIED", "payment_failed"),
        ]:
            event = standin.capture_event(capture.capture_id, event_type)
            parsed = adapter.parse_event(json.loads(json.dumps(event)))
            self.assertEqual(parsed.kind, kind)
            self.assertEqual(parsed.external_id, event["id"])
            self.assertEqual(parsed.payment_ref, capture.capture_id)
            self.assertEqual(parsed.object_ref, capture.capture_id)
            self.assertEqual(parsed.session_ref, capture.order_id)
            self.assertEqual((parsed.invoice_id, parsed.db), (42, "paycrm"))
            self.assertEqual((parsed.amount_minor, parsed.currency), (10000, "EUR"))
            self.assertEqual(
                parsed.fee_minor, 398 if kind == "payment_succeeded" else 0
            )
            self.assertGreater(parsed.created, 0)
            self.assertIs(parsed.livemode, False)

    def test_parse_pending_capture(self):
        standin = self.standin
        standin.next_capture_status = "PENDING"
        adapter = adapter_for(standin)
        capture = paid_order(standin, adapter, 1500, "JPY")
        self.assertEqual((capture.status, capture.fee_minor), ("PENDING", 0))
        event = standin.capture_event(capture.capture_id, "PAYMENT.CAPTURE.PENDING")
        parsed = adapter.parse_event(event)
        self.assertEqual((parsed.kind, parsed.status), ("payment_pending", "PENDING"))
        self.assertEqual(
            (parsed.amount_minor, parsed.currency, parsed.fee_minor), (1500, "JPY", 0)
        )
        self.assertEqual(parsed.extra["status_reason"], "PENDING_REVIEW")

    def test_parse_refund_events(self):
        for event_type, kind in [
            ("PAYMENT.CAPTURE.REFUNDED", "refund_succeeded"),
            ("PAYMENT.CAPTURE.REVERSED", "dispute_funds_withdrawn"),
        ]:
            with self.subTest(event_type=event_type):
                standin = self._start_standin()
                adapter = adapter_for(standin)
                capture = paid_order(standin, adapter, 10000)
                refund = adapter.refund_capture(capture.capture_id, 4000, "EUR", "r")
                parsed = adapter.parse_event(
                    standin.refund_event(refund.refund_id, event_type)
                )
                self.assertEqual(parsed.kind, kind)
                self.assertEqual(parsed.object_ref, refund.refund_id)
                self.assertEqual(parsed.payment_ref, capture.capture_id)
                self.assertEqual((parsed.amount_minor, parsed.invoice_id), (4000, 42))
                # 3.49 % of 40.00
                self.assertEqual(parsed.extra["fee_refunded_minor"], 140)

    def test_parse_dispute_events(self):
        resolved = "CUSTOMER.DISPUTE.RESOLVED"
        for event_type, outcome, kind, status, money in [
            ("CUSTOMER.DISPUTE.CREATED", "", "dispute_opened", "OPEN", ""),
            (resolved, "RESOLVED_SELLER_FAVOUR", "dispute_closed", "won", "release"),
            (resolved, "RESOLVED_BUYER_FAVOUR", "dispute_closed", "lost", "out"),
        ]:
            with self.subTest(event_type=event_type, outcome=outcome):
                standin = self._start_standin()
                adapter = adapter_for(standin)
                capture = paid_order(standin, adapter, 10000)
                amount = {"currency_code": "EUR", "value": "30.00"}
                event = standin.dispute_event(
                    capture.capture_id, event_type, outcome, amount
                )
                parsed = adapter.parse_event(event)
                self.assertEqual(
                    (parsed.kind, parsed.status, parsed.money), (kind, status, money)
                )
                # What the money does is keyed by the capture: a reversal of the
                # same capture and a lost dispute take it once.
                self.assertEqual(parsed.money_ref, capture.capture_id if money else "")
                self.assertTrue(parsed.object_ref.startswith("PP-D-"))
                self.assertEqual(parsed.payment_ref, capture.capture_id)
                self.assertEqual(
                    (parsed.amount_minor, parsed.currency, parsed.invoice_id),
                    (3000, "EUR", 42),
                )
