"""Catch-up from the gateways' event lists and webhook registration, through
the real SDK (Stripe) and ``requests`` (PayPal) against the stand-ins; no ORM."""

import time

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector.gateways import (
    DemoAdapter,
    GatewayConfig,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
    PaypalAdapter,
    StripeAdapter,
    WebhookEndpoint,
    get_adapter,
    paypal,
    webhook_differences,
)

from .paypal_standin import PaypalStandin
from .paypal_standin import make_event as paypal_event
from .stripe_standin import StripeStandin
from .test_paypal_lib import adapter_for as paypal_adapter_for
from .test_paypal_lib import paid_order

URL = "https://erp.example.com/paycrm/webhook/7"
NOW = int(time.time())


def stripe_adapter(standin, timeout=5.0):
    return get_adapter(
        GatewayConfig(
            provider="stripe",
            secret_key="sk_test_x",
            api_base=standin.url,
            timeout=timeout,
            max_retries=0,
        )
    )


def walk(adapter, since, until):
    """Every event of the window, page after page, and how many pages."""
    events, cursor, pages = [], "", 0
    while True:
        page = adapter.list_events(since, until, cursor)
        events += page.events
        pages += 1
        cursor = page.cursor
        if not cursor:
            return events, pages


@tagged("post_install", "-at_install")
class TestWebhookDifferences(BaseCase):
    TYPES = ("a.one", "b.two", "c.three")

    def endpoint(self, **values):
        return WebhookEndpoint(
            **{
                "endpoint_id": "we_1",
                "url": URL,
                "event_types": self.TYPES,
                **values,
            }
        )

    def texts(self, endpoint, url=URL, types=TYPES):
        return [str(message) for message in webhook_differences(endpoint, url, types)]

    def test_all_right_and_extra_types_harmless(self):
        self.assertEqual(self.texts(self.endpoint()), [])
        extra = self.endpoint(event_types=(*self.TYPES, "d.four"))
        self.assertEqual(self.texts(extra), [])
        self.assertEqual(self.texts(self.endpoint(event_types=("*",))), [])

    def test_none_registered(self):
        (text,) = self.texts(None)
        self.assertIn("no webhook endpoint is registered", text)
        self.assertIn(URL, text)

    def test_url_differs_shows_both(self):
        (text,) = self.texts(self.endpoint(url="https://old.example.com/hook"))
        self.assertIn("https://old.example.com/hook", text)
        self.assertIn(URL, text)

    def test_missing_types_listed_and_disabled(self):
        endpoint = self.endpoint(event_types=("b.two",), enabled=False)
        missing, disabled = self.texts(endpoint)
        self.assertIn("a.one, c.three", missing)
        self.assertNotIn("b.two", missing)
        self.assertIn("disabled", disabled)

    def test_capabilities(self):
        self.assertTrue(StripeAdapter.lists_events and StripeAdapter.registers_webhooks)
        self.assertTrue(PaypalAdapter.lists_events and PaypalAdapter.registers_webhooks)
        self.assertFalse(DemoAdapter.lists_events or DemoAdapter.registers_webhooks)
        self.assertEqual(StripeAdapter.event_history_days, 30)
        self.assertEqual(PaypalAdapter.event_history_days, 30)
        types = StripeAdapter.webhook_event_types()
        self.assertEqual(list(types), sorted(StripeAdapter.event_kinds))
        # More than Stripe's 20 filter types: the list is read unfiltered.
        self.assertEqual(len(types), 21)
        demo = get_adapter(GatewayConfig(provider="demo", webhook_secret="s"))
        with self.assertRaisesRegex(GatewayError, "cannot list its past events"):
            demo.list_events(0, NOW)


@tagged("post_install", "-at_install")
class TestStripeSyncLib(BaseCase):
    def setUp(self):
        super().setUp()
        self.standin = StripeStandin().start()
        self.addCleanup(self.standin.stop)
        self.adapter = stripe_adapter(self.standin)

    def record(self, count, start=NOW - 3000, event_type="payment_intent.succeeded"):
        return [
            self.standin.record_event(
                event_type,
                {"id": f"pi_{start + i}", "object": "payment_intent"},
                created=start + i,
            )
            for i in range(count)
        ]

    # -- events ----------------------------------------------------------------

    def test_three_pages_each_event_once_newest_first(self):
        recorded = self.record(250)
        other = self.record(5, start=NOW - 4000, event_type="customer.created")
        events, pages = walk(self.adapter, NOW - 4000, NOW + 1)
        self.assertEqual(pages, 3)
        # Unfiltered (the connector handles over 20 types): the types it
        # does not handle come too, and its caller skips them.
        self.assertEqual(
            [event["id"] for event in events],
            [event["id"] for event in reversed(other + recorded)],
        )
        self.assertEqual(events[0]["object"], "event")
        one = self.adapter.client.v1.events.retrieve(recorded[0]["id"])
        self.assertEqual(one.to_dict(), recorded[0])
        first = self.standin.calls("GET", "/v1/events")[0].params
        self.assertEqual(first["limit"], "100")
        # Over Stripe's 20-type filter limit: no filter, the caller skips
        # the types it does not handle.
        self.assertNotIn("types", first)
        self.assertEqual(first["created"], {"gte": str(NOW - 4000), "lt": str(NOW + 1)})

    def test_created_window_is_half_open(self):
        recorded = self.record(10, start=NOW - 100)
        page = self.adapter.list_events(NOW - 98, NOW - 93)
        self.assertEqual(
            [event["created"] for event in page.events],
            [NOW - 94 - i for i in range(5)],
        )
        self.assertEqual(page.cursor, "")
        self.assertEqual(len(recorded), 10)

    def test_rate_limit_on_page_two_then_cursor_resumes(self):
        self.record(150)
        first = self.adapter.list_events(NOW - 4000, NOW + 1)
        self.assertEqual(len(first.events), 100)
        self.standin.fail_next(429, path_prefix="/v1/events")
        with self.assertRaisesRegex(GatewayUnreachable, "rate limited"):
            self.adapter.list_events(NOW - 4000, NOW + 1, first.cursor)
        self.standin.fail_next(500, path_prefix="/v1/events")
        with self.assertRaisesRegex(GatewayUnreachable, r"HTTP 500.*try again later"):
            self.adapter.list_events(NOW - 4000, NOW + 1, first.cursor)
        second = self.adapter.list_events(NOW - 4000, NOW + 1, first.cursor)
        self.assertEqual(len(second.events), 50)
        self.assertEqual(second.cursor, "")
        ids = {event["id"] for event in first.events + second.events}
        self.assertEqual(len(ids), 150)

    def test_timeout_and_bad_cursor(self):
        self.record(3)
        slow = stripe_adapter(self.standin, timeout=0.3)
        self.standin.delay = 0.8
        with self.assertRaisesRegex(GatewayUnreachable, "timeout"):
            slow.list_events(NOW - 4000, NOW + 1)
        self.standin.delay = 0
        with self.assertRaisesRegex(GatewayError, "not a Stripe event id"):
            self.adapter.list_events(NOW - 4000, NOW + 1, "../v1/balance")

    def test_page_delay(self):
        self.record(3)
        self.standin.page_delay = 0.05
        started = time.monotonic()
        self.adapter.list_events(NOW - 4000, NOW + 1)
        self.assertGreaterEqual(time.monotonic() - started, 0.05)

    def test_flows_record_events_the_parser_books(self):
        standin = self.standin
        meta = {"paycrm_invoice_id": "42", "paycrm_db": "db"}
        session = standin.put(
            "checkout.session",
            {
                "amount_total": 10000,
                "currency": "usd",
                "status": "open",
                "payment_status": "unpaid",
                "metadata": meta,
                "client_reference_id": "42",
                "payment_intent_data": {"metadata": meta},
                "customer": None,
            },
        )
        paid = standin.complete_session(session["id"], created=NOW - 60)
        self.assertEqual(paid["event"]["created"], NOW - 60)
        refund_id = self.adapter.refund(paid["payment_intent"]["id"], 3000, "key-1")
        listed, _pages = walk(self.adapter, NOW - 120, int(time.time()) + 60)
        kinds = {}
        for event in listed:
            parsed = self.adapter.parse_event(event)
            kinds[event["type"]] = (parsed.kind, parsed.object_ref, parsed.amount_minor)
        self.assertEqual(
            kinds,
            {
                "checkout.session.completed": (
                    "payment_succeeded",
                    session["id"],
                    10000,
                ),
                "refund.created": ("refund_succeeded", refund_id, 3000),
                "charge.refunded": ("refund_succeeded", refund_id, 3000),
            },
        )
        self.assertEqual(
            self.adapter.parse_event(listed[-1]).payment_ref,
            paid["payment_intent"]["id"],
        )
        standin.record_events = False
        self.adapter.refund(paid["payment_intent"]["id"], 1000, "key-2")
        self.assertEqual(len(standin.events_of()), 3)
        self.assertEqual(len(standin.events_of("refund.created")), 1)

    # -- webhooks --------------------------------------------------------------

    def test_register_creates_exactly_the_handled_types_with_secret(self):
        endpoint = self.adapter.register_webhook(URL)
        self.assertEqual(endpoint.event_types, StripeAdapter.webhook_event_types())
        self.assertEqual(endpoint.url, URL)
        self.assertTrue(endpoint.enabled)
        self.assertTrue(endpoint.secret.startswith("whsec_"))
        self.assertEqual(
            self.standin.webhook_secrets[endpoint.endpoint_id], endpoint.secret
        )
        sent = self.standin.last("POST", "/v1/webhook_endpoints").params
        self.assertEqual(sorted(sent["enabled_events"]), list(endpoint.event_types))
        found = self.adapter.find_webhook(URL)
        self.assertEqual((found.endpoint_id, found.secret), (endpoint.endpoint_id, ""))
        self.assertEqual(webhook_differences(found, URL, endpoint.event_types), [])

    def test_register_twice_refuses_in_plain_words(self):
        endpoint = self.adapter.register_webhook(URL)
        with self.assertRaises(GatewayRefused) as caught:
            self.adapter.register_webhook(URL)
        text = str(caught.exception)
        self.assertIn(endpoint.endpoint_id, text)
        self.assertIn("signing secret", text)
        self.assertIn("delete the endpoint in the Stripe dashboard", text)
        self.assertEqual(len(self.standin.objects["webhook_endpoint"]), 1)

    def test_register_with_id_updates_and_find(self):
        endpoint = self.adapter.register_webhook("https://old.example.com/hook")
        client = self.adapter.client
        client.v1.webhook_endpoints.update(
            endpoint.endpoint_id, params={"enabled_events": ["charge.refunded"]}
        )
        stale = self.adapter.find_webhook(URL, endpoint.endpoint_id)
        self.assertEqual(len(webhook_differences(stale, URL, endpoint.event_types)), 2)
        updated = self.adapter.register_webhook(URL, endpoint.endpoint_id)
        self.assertEqual(updated.endpoint_id, endpoint.endpoint_id)
        self.assertEqual((updated.url, updated.secret), (URL, ""))
        self.assertEqual(updated.event_types, endpoint.event_types)
        # Disabled in the dashboard: found, and said so.
        client.v1.webhook_endpoints.update(
            endpoint.endpoint_id, params={"disabled": True}
        )
        found = self.adapter.find_webhook(URL)
        self.assertFalse(found.enabled)
        # Deleted in the dashboard: an id that is gone creates a new endpoint.
        client.v1.webhook_endpoints.delete(endpoint.endpoint_id)
        self.assertIsNone(self.adapter.find_webhook(URL, endpoint.endpoint_id))
        again = self.adapter.register_webhook(URL, endpoint.endpoint_id)
        self.assertNotEqual(again.endpoint_id, endpoint.endpoint_id)
        self.assertTrue(again.secret)


@tagged("post_install", "-at_install")
class TestPaypalSyncLib(BaseCase):
    def setUp(self):
        super().setUp()
        paypal.clear_token_cache()
        self.addCleanup(paypal.clear_token_cache)
        self.standin = PaypalStandin().start()
        self.addCleanup(self.standin.stop)
        self.adapter = paypal_adapter_for(self.standin)

    def record(self, count, start=NOW - 3000, event_type="PAYMENT.CAPTURE.COMPLETED"):
        return [
            self.standin.record_event(
                paypal_event(event_type, "capture", {"id": f"C{start + i}"}),
                created=start + i,
            )
            for i in range(count)
        ]

    def test_three_pages_each_event_once_newest_first(self):
        recorded = self.record(240)
        recorded += self.record(
            10, start=NOW - 500, event_type="CHECKOUT.ORDER.APPROVED"
        )
        events, pages = walk(self.adapter, NOW - 4000, NOW + 1)
        self.assertEqual(pages, 3)
        # PayPal cannot filter by several types: unhandled ones come too.
        self.assertEqual(
            [event["id"] for event in events],
            [event["id"] for event in reversed(recorded)],
        )
        first = self.standin.calls("GET", "/v1/notifications/webhooks-events")[0]
        self.assertIn("page_size=100", first.query)
        path = f"/v1/notifications/webhooks-events/{recorded[0]['id']}"
        self.assertEqual(self.adapter._api("GET", path), recorded[0])

    def test_window_and_rate_limit_then_cursor_resumes(self):
        self.record(10, start=NOW - 100)
        page = self.adapter.list_events(NOW - 98, NOW - 93)
        self.assertEqual(len(page.events), 5)  # NOW-98 .. NOW-94; NOW-93 is out
        self.record(150, start=NOW - 3000)
        first = self.adapter.list_events(NOW - 4000, NOW - 1000)
        self.assertTrue(first.cursor.startswith("/v1/notifications/webhooks-events?"))
        self.standin.fail_next(429, path_prefix="/v1/notifications/webhooks-events")
        with self.assertRaisesRegex(GatewayUnreachable, "rate limited"):
            self.adapter.list_events(NOW - 4000, NOW - 1000, first.cursor)
        second = self.adapter.list_events(NOW - 4000, NOW - 1000, first.cursor)
        self.assertEqual((len(second.events), second.cursor), (50, ""))
        ids = {event["id"] for event in first.events + second.events}
        self.assertEqual(len(ids), 150)

    def test_next_link_elsewhere_and_bad_cursor_refused(self):
        self.record(150)
        self.standin.next_link_base = "https://evil.example.com"
        with self.assertRaisesRegex(GatewayError, "another host"):
            self.adapter.list_events(NOW - 4000, NOW + 1)
        before = len(self.standin.requests)
        with self.assertRaisesRegex(GatewayError, "not a page of PayPal's event list"):
            self.adapter.list_events(NOW - 4000, NOW + 1, "/v1/reporting/balances?x=1")
        self.assertEqual(len(self.standin.requests), before)

    def test_flows_record_events_the_parser_books(self):
        capture = paid_order(self.standin, self.adapter)
        self.adapter.refund_capture(capture.capture_id, 2500, "EUR", "refund-1")
        events, _pages = walk(self.adapter, NOW - 60, int(time.time()) + 60)
        parsed = [self.adapter.parse_event(event) for event in events]
        self.assertEqual(
            [(event.kind, event.amount_minor) for event in parsed],
            [("refund_succeeded", 2500), ("payment_succeeded", 10000)],
        )
        self.assertEqual(parsed[1].payment_ref, capture.capture_id)

    def test_register_adopt_update_find(self):
        endpoint = self.adapter.register_webhook(URL)
        self.assertEqual(endpoint.event_types, PaypalAdapter.webhook_event_types())
        body = self.standin.last("POST", "/v1/notifications/webhooks").json
        self.assertEqual(
            body["event_types"],
            [{"name": name} for name in PaypalAdapter.webhook_event_types()],
        )
        # Registered before, with fewer types: PayPal refuses the URL, the
        # adapter adopts the webhook and subscribes it to every type.
        hook = self.standin.webhooks[endpoint.endpoint_id]
        hook["event_types"] = hook["event_types"][:1]
        adopted = self.adapter.register_webhook(URL)
        self.assertEqual(adopted, endpoint)
        self.assertEqual(len(self.standin.webhooks), 1)
        patch = self.standin.last("PATCH", "/v1/notifications/webhooks/").json
        self.assertEqual([op["path"] for op in patch], ["/url", "/event_types"])
        moved = self.adapter.register_webhook(URL + "/new", endpoint.endpoint_id)
        self.assertEqual(
            (moved.endpoint_id, moved.url), (endpoint.endpoint_id, URL + "/new")
        )
        self.assertEqual(self.adapter.find_webhook(URL, moved.endpoint_id), moved)
        self.assertEqual(self.adapter.find_webhook(URL + "/new"), moved)
        self.assertIsNone(self.adapter.find_webhook(URL))
        self.assertIsNone(self.adapter.find_webhook(URL, "NOSUCHHOOK"))
        self.assertEqual(
            [str(m) for m in webhook_differences(moved, URL, moved.event_types)][0][
                :40
            ],
            "the gateway sends events to https://erp.",
        )
