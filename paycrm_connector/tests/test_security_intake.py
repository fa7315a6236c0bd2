"""Webhook bodies and headers that made the intake answer 500, or let a
signature dated in the future through (issue 12, items 4 and 5).

Each refused input gets a 400 naming the field at fault, and nothing is stored
or posted.
"""

import json
import re
import time
from urllib.parse import quote, urlencode

import requests

from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from ..gateways import signature
from .link_common import PaycrmLinkCase
from .paypal_standin import WEBHOOK_ID, webhook_headers
from .paypal_standin import make_event as paypal_event
from .stripe_standin import signed_headers
from .webhook_common import WebhookCommon, WebhookHttpCase

WEBHOOK_LOGGER = "odoo.addons.paycrm_connector.controllers.webhook"
VERIFY = "/v1/notifications/verify-webhook-signature"
# Any five PayPal transmission headers: enough to reach the verification.
PAYPAL_JUNK_HEADERS = {
    "Paypal-Transmission-Id": "x",
    "Paypal-Transmission-Time": "x",
    "Paypal-Transmission-Sig": "x",
    "Paypal-Cert-Url": "x",
    "Paypal-Auth-Algo": "x",
}


def nested_event(depth, event_type="payment.succeeded"):
    """A JSON event whose ``data`` nests ``depth`` objects deep."""
    head = b'{"id": "evt_deep", "type": "%s", "data": ' % event_type.encode()
    return head + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


@tagged("post_install", "-at_install")
class TestSecurityIntake(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_paypal_gateway()
        cls.gateways = cls.demo_gateway | cls.stripe_gateway | cls.paypal_gateway

    def setUp(self):
        super().setUp()
        # Every refusal is logged as a warning, by design.
        self.enterContext(mute_logger(WEBHOOK_LOGGER))
        self.paypal_standin.requests.clear()
        self.paypal_standin.valid_signatures = True
        self.invoice = self._invoice(100.0)

    # -- helpers -------------------------------------------------------------

    def _assert_refused(self, response, field, gateway):
        self.assertEqual(response.status_code, 400, response.text)
        self.assertTrue(
            response.text.startswith(f"invalid {field}:"),
            f"the answer names {field}: {response.text!r}",
        )
        self.assertFalse(self.events.search_count([("gateway_id", "=", gateway.id)]))
        self._assert_nothing_posted()

    def _assert_nothing_posted(self):
        lines = self.env["account.move.line"].search_count(
            [("journal_id", "in", self.gateways.journal_id.ids)]
        )
        self.assertEqual(lines, 0, "nothing posted in a clearing journal")
        self.assertFalse(self.events.search_count([("move_id", "!=", False)]))

    def _paypal_capture_event(self, **changes):
        event = paypal_event(
            "PAYMENT.CAPTURE.COMPLETED",
            "capture",
            {
                "id": "CAPT-SEC-1",
                "status": "COMPLETED",
                "amount": {"currency_code": "USD", "value": "10.00"},
                "custom_id": f"inv={self.invoice.id}",
            },
        )
        event.update(changes)
        return event

    def _post_paypal_unverified(self, event):
        """Post ``event``, correctly signed, while PayPal's verification API
        answers 503: the path that stores events unverified."""
        body = json.dumps(event).encode()
        self.paypal_standin.fail_next(503, count=1, path_prefix=VERIFY)
        response = self._post_raw(
            self.paypal_gateway, body, webhook_headers(body, WEBHOOK_ID)
        )
        self.assertEqual(
            len(self.paypal_standin.calls("POST", VERIFY)), 1, "PayPal was asked"
        )
        return response

    def _post_demo_signed(self, body, timestamp=None):
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {
            "Paycrm-Signature": signature.header(
                body, self.demo_gateway.webhook_secret, timestamp
            ),
            "Content-Type": "application/json",
        }
        # Not url_open: it turns an empty body into a GET.
        return self.opener.post(
            f"{self.base_url()}/paycrm/webhook/{self.demo_gateway.id}",
            data=body,
            headers=headers,
            timeout=30,
        )

    # -- PayPal --------------------------------------------------------------

    def test_paypal_nested_json_with_any_paypal_headers(self):
        response = self._post_raw(
            self.paypal_gateway, nested_event(5000), PAYPAL_JUNK_HEADERS
        )
        self._assert_refused(response, "body", self.paypal_gateway)
        self.assertIn("nested deeper than 64", response.text)
        self.assertFalse(self.paypal_standin.calls("POST", VERIFY), "never asked")

    def test_paypal_unverified_nul_in_id(self):
        event = self._paypal_capture_event(id="WH-SEC\x00-1")
        response = self._post_paypal_unverified(event)
        self._assert_refused(response, "id", self.paypal_gateway)

    def test_paypal_unverified_junk_create_time(self):
        for junk in ("yesterday", "2024-13-45T99:00:00Z", "2150-01-01T00:00:00Z", 7):
            with self.subTest(create_time=junk):
                self.paypal_standin.requests.clear()
                event = self._paypal_capture_event(create_time=junk)
                response = self._post_paypal_unverified(event)
                self._assert_refused(response, "create_time", self.paypal_gateway)

    def test_paypal_unverified_huge_created_is_not_its_field(self):
        # ``created`` is Stripe's field: a PayPal event's time is its
        # create_time, and whatever else it carries is kept as sent.
        event = self._paypal_capture_event(
            created=10**30, create_time="2025-03-04T05:06:07.891Z"
        )
        response = self._post_paypal_unverified(event)
        self.assertEqual((response.status_code, response.text), (200, "ok"))
        stored = self._event(event["id"], self.paypal_gateway)
        self.assertEqual((stored.state, stored.verified), ("received", False))
        self.assertEqual(str(stored.created), "2025-03-04 05:06:07")
        self._assert_nothing_posted()

    def test_paypal_not_json_is_a_400_not_a_bad_signature(self):
        response = self._post_raw(self.paypal_gateway, b"{nope", PAYPAL_JUNK_HEADERS)
        self._assert_refused(response, "body", self.paypal_gateway)
        self.paypal_gateway.invalidate_recordset()
        self.assertEqual(self.paypal_gateway.bad_signature_count, 0)

    # -- demo (valid signature over bad bodies) --------------------------------

    def test_demo_signed_bad_envelopes(self):
        good = self._demo_payment(self.invoice, 1000)
        cases = [
            ("id", {**good, "id": "evt_\x00nul"}),
            ("id", {**good, "id": "evt_\ud800"}),
            ("id", {**good, "id": "e" * 256}),
            ("id", {**good, "id": 12345}),
            ("type", {**good, "type": ["payment.succeeded"]}),
            ("type", {**good, "type": "payment.\x1bsucceeded"}),
            ("created", {**good, "created": 10**30}),
            ("created", {**good, "created": -1}),
            ("created", {**good, "created": 1.7e9}),
            ("created", {**good, "created": "1700000000"}),
            ("created", {**good, "created": True}),
        ]
        for field, event in cases:
            with self.subTest(field=field, value=event[field]):
                response = self._post_demo_signed(event)
                self._assert_refused(response, field, self.demo_gateway)

    def test_demo_signed_paypal_shaped_body(self):
        # The PayPal-shaped body of the unverified path, signed by the demo
        # gateway: read as a demo event, it has no type.
        body = {
            "id": "WH-SEC-2",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "junk",
        }
        response = self._post_demo_signed(body)
        self._assert_refused(response, "type", self.demo_gateway)

    def test_demo_signed_nested_json(self):
        response = self._post_demo_signed(nested_event(5000))
        self._assert_refused(response, "body", self.demo_gateway)
        self.assertIn("nested deeper than 64", response.text)
        # 64 levels are fine (the event itself is then stored).
        self.assertEqual(
            self._post_demo_signed(
                nested_event(const.WEBHOOK_MAX_JSON_DEPTH - 2)
            ).status_code,
            200,
        )

    def test_demo_signed_body_not_utf8_json(self):
        event = self._demo_payment(self.invoice, 1000)
        for body in (
            json.dumps(event).encode("utf-16"),  # json.loads would read it
            b"",
            b'{"id": "evt_nan", "type": "payment.succeeded", "amount": NaN}',
        ):
            with self.subTest(body=body[:20]):
                response = self._post_demo_signed(body)
                self._assert_refused(response, "body", self.demo_gateway)

    def test_demo_signature_header_junk(self):
        body = json.dumps(self._demo_payment(self.invoice, 1000)).encode()
        now = int(time.time())
        sig = signature.compute(body, self.demo_gateway.webhook_secret, now)
        for header in (
            f"t=\xb2,v1={sig}",  # "²" is a digit to str.isdigit()
            f"t={now},v1=\xe9{sig}",  # non-ASCII: compare_digest raises
            f"t={'9' * 5000},v1={sig}",
            f"t={now},t={now + 10**6},v1={sig}",
        ):
            with self.subTest(header=header[:30]):
                response = self._post_raw(
                    self.demo_gateway, body, {"Paycrm-Signature": header}
                )
                self.assertEqual(response.status_code, 400)
                self.assertIn("invalid signature", response.text)
        self.assertFalse(self.events.search_count([]))

    def test_demo_future_timestamp_refused(self):
        event = self._demo_payment(self.invoice, 1000)
        response = self._post_demo_signed(event, timestamp=int(time.time()) + 3600)
        self.assertEqual(response.status_code, 400)
        self.assertIn("timestamp in the future", response.text)
        self.assertFalse(self.events.search_count([]))
        self.demo_gateway.invalidate_recordset()
        self.assertEqual(self.demo_gateway.bad_signature_count, 1)

    # -- Stripe --------------------------------------------------------------

    def test_stripe_future_timestamp_refused(self):
        event = self._stripe_event("payment_intent.created", {"id": "pi_future"})
        response = self._post_stripe(event, timestamp=int(time.time()) + 3600)
        self.assertEqual(response.status_code, 400)
        self.assertIn("timestamp in the future", response.text)
        self.assertFalse(self.events.search_count([]))
        self.stripe_gateway.invalidate_recordset()
        self.assertEqual(self.stripe_gateway.bad_signature_count, 1)
        # Within the tolerance, a clock a little ahead is fine.
        ahead = self._post_stripe(
            self._stripe_event("payment_intent.created", {"id": "pi_ahead"}),
            timestamp=int(time.time()) + 60,
        )
        self.assertEqual(ahead.status_code, 200)

    def test_stripe_signed_bad_envelopes(self):
        for field, changes in (
            ("id", {"id": "evt_\x00"}),
            ("created", {"created": 10**30}),
            ("type", {"type": None}),
        ):
            with self.subTest(field=field):
                event = self._stripe_event("payment_intent.created", {"id": "pi_1"})
                event.update(changes)
                response = self._post_stripe(event)
                self._assert_refused(response, field, self.stripe_gateway)

    def test_stripe_non_ascii_signature(self):
        body = json.dumps(
            self._stripe_event("payment_intent.created", {"id": "pi_x"})
        ).encode()
        header = f"t={int(time.time())},v1=\xe9\xe9"
        response = self._post_raw(
            self.stripe_gateway, body, {"Stripe-Signature": header}
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.events.search_count([]))

    def test_stripe_without_secret_key_stores_nothing(self):
        # The adapter cannot be built: that is not "PayPal could not be asked".
        gateway = self.env["paycrm.gateway"].create(
            {
                "name": "Stripe, no key yet",
                "provider": "stripe",
                "company_id": self.company.id,
                "webhook_secret": "whsec_only",
            }
        )
        event = self._stripe_event("payment_intent.created", {"id": "pi_nokey"})
        body = json.dumps(event).encode()
        response = self._post_raw(gateway, body, signed_headers(body, "whsec_only"))
        self.assertEqual(response.status_code, 400)
        self.assertIn("not configured", response.text)
        self.assertFalse(self.events.search_count([("gateway_id", "=", gateway.id)]))

    # -- the endpoint itself ---------------------------------------------------

    def test_wrong_methods_and_unknown_gateways(self):
        url = f"/paycrm/webhook/{self.demo_gateway.id}"
        self.assertEqual(self.url_open(url).status_code, 405)  # GET
        self.assertEqual(self.url_open(url, head=True).status_code, 405)
        for path in ("/paycrm/webhook/0", f"/paycrm/webhook/{10**20}"):
            with self.subTest(path=path):
                self.assertEqual(self.url_open(path, data=b"{}").status_code, 404)

    def test_disabled_or_other_company_gateway_same_rules(self):
        # A disabled gateway still stores (design rule 2), and another
        # company's gateway stores for its company: both refuse junk alike.
        other = self.env["paycrm.gateway"].create(
            {
                "name": "Demo, company 2",
                "provider": "demo",
                "company_id": self.setup_other_company(name="Company B")["company"].id,
            }
        )
        self.demo_gateway.state = "disabled"
        for gateway in (self.demo_gateway, other):
            with self.subTest(gateway=gateway.name):
                good = self._demo_payment(self.invoice, 1000)
                for event, status in (({**good, "id": "evt_\x00"}, 400), (good, 200)):
                    body = json.dumps(event).encode()
                    response = self._post_demo(body, gateway=gateway)
                    self.assertEqual(response.status_code, status, response.text)
                stored = self._event(good["id"], gateway)
                self.assertEqual(stored.company_id, gateway.company_id)
        self._assert_nothing_posted()

    def test_chunked_body_over_limit_413(self):
        def chunks():
            piece = b" " * 65536
            for _n in range(const.WEBHOOK_MAX_BYTES // len(piece) + 2):
                yield piece

        url = f"{self.base_url()}/paycrm/webhook/{self.demo_gateway.id}"
        response = requests.post(
            url, data=chunks(), headers={"Paycrm-Signature": "t=1,v1=ab"}, timeout=30
        )
        self.assertEqual(response.status_code, 413)
        self.demo_gateway.invalidate_recordset()
        self.assertEqual(self.demo_gateway.bad_signature_count, 0)

    def test_content_types(self):
        event = self._demo_payment(self.invoice, 1000)
        body = json.dumps(event).encode()
        sig = signature.header(body, self.demo_gateway.webhook_secret)
        for content_type, status in (
            # Odoo parses a form body before the route runs: the raw bytes the
            # signature covers are gone.
            ("application/x-www-form-urlencoded", 400),
            ("multipart/form-data; boundary=x", 400),
            ("text/plain", 200),
            ("application/json", 200),
        ):
            with self.subTest(content_type=content_type):
                headers = {"Paycrm-Signature": sig, "Content-Type": content_type}
                response = self._post_raw(self.demo_gateway, body, headers)
                self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(len(self._event(event["id"])), 1)


@tagged("post_install", "-at_install")
class TestSecurityStoredEvents(WebhookHttpCase):
    """Events stored before the intake checked their envelope never crash
    the processor: they fail with the field named."""

    def test_legacy_bad_envelope_fails_cleanly(self):
        invoice = self._invoice(100.0)
        for field, value in (("created", "junk"), ("id", "evt_\x01")):
            event = self._demo_payment(invoice, 1000, ref=f"demo_pay_{field}")
            event[field] = value
            # What the intake stored before it checked: written past it.
            stored = self.events.sudo().create(
                {
                    "gateway_id": self.demo_gateway.id,
                    "company_id": self.company.id,
                    "external_id": f"legacy_{field}",
                    "event_type": "payment.succeeded",
                    "kind": "payment_succeeded",
                    "payload": json.dumps(event),
                }
            )
            with mute_logger(
                "odoo.addons.paycrm_connector.models.paycrm_event_processor"
            ):
                self._process()
            self.assertEqual(stored.state, "failed")
            self.assertIn(f"Not a valid event: {field}", stored.last_error)
            self.assertEqual(stored.attempts, 1, "failed at once, not retried")
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestSecurityPublicRoutes(PaycrmLinkCase, WebhookCommon):
    """Junk in a pay link's path or query, or in a demo checkout reference,
    is a 404 (found by the property test; each was a 500)."""

    def test_pay_link_junk_is_404(self):
        invoice = self._invoice(100.0)
        path = self._path(invoice)
        for url in (
            f"/paycrm/pay/{invoice.id}/{quote('é' + invoice.access_token)}",
            f"{path}?{urlencode({'amount': '²', 'sig': 'x'})}",
            f"{path}?{urlencode({'amount': '9' * 5000, 'sig': 'x'})}",
            f"{path}?{urlencode({'amount': '100', 'sig': 'é'})}",
            f"{path}/done?token=ORDER%00",
        ):
            with self.subTest(url=url[:80]):
                response = self.url_open(url, allow_redirects=False)
                self.assertEqual(response.status_code, 404)
        self.assertFalse(invoice.paycrm_link_ids)

    def test_demo_checkout_nul_reference_is_404(self):
        invoice = self._invoice(100.0)
        link, _created = self.env["paycrm.link"]._paycrm_checkout_for(invoice)
        page = self.url_open(f"/paycrm/demo/checkout/{link.session_ref}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        self.assertEqual(self.url_open("/paycrm/demo/checkout/x%00").status_code, 404)
        response = self.url_open(
            "/paycrm/demo/checkout/x%00/submit",
            data={"csrf_token": csrf, "outcome": "pay", "method": "card"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.events.search_count([]))
