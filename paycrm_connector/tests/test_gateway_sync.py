"""Catch-up sync: events the webhook never delivered are found on the
gateway's event list (the Stripe and PayPal stand-ins) and booked once."""

import time
from datetime import timedelta

from odoo import fields, sql_db
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.paycrm_gateway_sync import SYNC_LOCK_KEY
from .common import GROUP_USER
from .paypal_common import PaypalFlowCase
from .paypal_standin import make_event as make_paypal_event
from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestGatewaySync(WebhookHttpCase):
    def setUp(self):
        super().setUp()
        self.standin.objects["event"].clear()
        self.gateway = self.stripe_gateway

    def _first_sync(self, gateway=None, hours=1):
        gateway = gateway or self.gateway
        wizard = self.env["paycrm.event.replay"].create(
            {
                "gateway_id": gateway.id,
                "first_sync": True,
                "date_from": fields.Datetime.now() - timedelta(hours=hours),
            }
        )
        return wizard.action_paycrm_replay()

    def _paid_invoices(self, count, amount=100.0):
        invoices = [self._invoice(amount) for _i in range(count)]
        for invoice in invoices:
            self._stripe_paid_session(invoice, int(amount * 100))
        return invoices

    def _synced(self, gateway=None):
        return self.events.search(
            [
                ("gateway_id", "=", (gateway or self.gateway).id),
                ("from_sync", "=", True),
            ]
        )

    def test_endpoint_down_one_sync_books_every_payment_once(self):
        invoices = self._paid_invoices(5)
        self.assertEqual(self.gateway.sync_state, "never")
        action = self._first_sync()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(
            "5 event(s) no webhook had delivered", action["params"]["message"]
        )
        synced = self._synced()
        self.assertEqual(len(synced), 5)
        self.assertEqual(
            set(synced.mapped("event_type")), {"checkout.session.completed"}
        )
        self._process()
        self.assertEqual(set(synced.mapped("state")), {"done"})
        for invoice in invoices:
            self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.gateway.sync_state, "ok")
        self.assertTrue(self.gateway.sync_watermark)
        # A second sync finds nothing new, books nothing twice.
        moves_before = self.env["account.move"].search_count([])
        outcome = self.gateway._paycrm_sync_run()
        self.assertEqual(outcome["found"], 0)
        self.assertIn("Nothing missing", outcome["message"])
        self._process()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(len(self._synced()), 5)

    def test_sync_and_live_webhooks_store_and_book_each_event_once(self):
        self._paid_invoices(4)
        listed = self.standin.events_of()
        # Two arrive by webhook before the sync, the others right after it.
        for event in listed[:2]:
            self.assertEqual(self._post_stripe(event).status_code, 200)
        outcome = self._first_sync()
        self.assertIn("2 event(s)", outcome["params"]["message"])
        for event in listed:
            self.assertEqual(self._post_stripe(event).status_code, 200)
        self._process()
        events = self.events.search([("gateway_id", "=", self.gateway.id)])
        self.assertEqual(len(events), 4)
        self.assertEqual(len(events.filtered("from_sync")), 2)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(len(events.mapped("move_id")), 4)

    def test_interrupted_sync_resumes_where_it_stopped(self):
        since = int(time.time()) - 600
        for index in range(230):
            self.standin.record_event(
                "payment_intent.canceled",
                {
                    "id": f"pi_resume_{index}",
                    "object": "payment_intent",
                    "metadata": {},
                },
                created=since + index,
            )
        self.gateway.sudo().sync_run_since = fields.Datetime.now() - timedelta(hours=1)
        first = self.gateway._paycrm_sync_run(max_pages=1)
        self.assertEqual(first["state"], "partial")
        cursor = self.gateway.sync_run_cursor
        self.assertTrue(cursor)
        self.assertEqual(len(self._synced()), 100)
        # The gateway is busy: nothing lost, the cursor kept, in plain words.
        self.standin.fail_next(429, path_prefix="/v1/events")
        busy = self.gateway._paycrm_sync_run()
        self.assertEqual(busy["state"], "partial")
        self.assertIn("rate limited", busy["message"])
        self.assertIn("resumes where this one stopped", busy["message"])
        self.assertEqual(self.gateway.sync_run_cursor, cursor)
        self.assertEqual(self.gateway.sync_attempts, 1)
        self.assertTrue(self.gateway._paycrm_sync_retry_at())
        done = self.gateway._paycrm_sync_run()
        self.assertEqual(done["state"], "ok")
        resumed = self.standin.calls("GET", "/v1/events")[-3]
        self.assertEqual(resumed.params.get("starting_after"), cursor)
        synced = self._synced()
        self.assertEqual(len(synced), 230)
        self.assertEqual(len(set(synced.mapped("external_id"))), 230)
        self.assertFalse(self.gateway.sync_run_cursor)
        self.assertEqual(self.gateway.sync_attempts, 0)

    def test_second_sync_while_one_runs_does_nothing(self):
        self._paid_invoices(1)
        self.gateway.sudo().sync_run_since = fields.Datetime.now() - timedelta(hours=1)
        # Another connection (a second worker): the test cursor would share
        # this session and its locks.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute(
                "SELECT pg_advisory_lock(%s, %s)", (SYNC_LOCK_KEY, self.gateway.id)
            )
            try:
                outcome = self.gateway._paycrm_sync_run()
            finally:
                other.execute(
                    "SELECT pg_advisory_unlock(%s, %s)",
                    (SYNC_LOCK_KEY, self.gateway.id),
                )
        self.assertIn("already running", outcome["message"])
        self.assertFalse(self._synced())
        self.assertFalse(self.standin.calls("GET", "/v1/events"))

    def test_other_mode_other_account_and_unhandled_types_are_skipped(self):
        obj = {"id": "pi_skip", "object": "payment_intent", "metadata": {}}
        self.standin.record_event("payment_intent.canceled", obj)["livemode"] = True
        self.standin.record_event("payment_intent.canceled", obj)["account"] = "acct_x"
        self.standin.record_event(
            "customer.created", {"id": "cus_x", "object": "customer"}
        )
        kept = self.standin.record_event("payment_intent.canceled", obj)
        self._first_sync()
        self.assertEqual(self._synced().mapped("external_id"), [kept["id"]])
        # The connector handles more types than Stripe filters on (20): the
        # list is read unfiltered and the unhandled types skipped here.
        self.assertGreater(
            len(self.gateway._paycrm_adapter().webhook_event_types()), 20
        )
        self.assertNotIn("types", self.standin.last("GET", "/v1/events").params)

    def test_first_sync_asks_from_when_and_refuses_beyond_history(self):
        action = self.gateway.action_paycrm_sync_now()
        self.assertEqual(action["res_model"], "paycrm.event.replay")
        self.assertTrue(action["context"]["default_first_sync"])
        wizard = self.env["paycrm.event.replay"].create(
            {
                "gateway_id": self.gateway.id,
                "first_sync": True,
                "date_from": fields.Datetime.now() - timedelta(days=45),
            }
        )
        with self.assertRaisesRegex(UserError, "last 30 days only"):
            wizard.action_paycrm_replay()
        self.assertFalse(self.standin.calls("GET", "/v1/events"))
        # Once synced, the button syncs at once.
        self._first_sync()
        action = self.gateway.action_paycrm_sync_now()
        self.assertEqual(action["tag"], "display_notification")

    def test_sync_needs_a_connector_manager(self):
        clerk = self._make_internal_user("sync_clerk", GROUP_USER)
        with self.assertRaises(UserError):
            self.gateway.with_user(clerk).action_paycrm_sync_now()

    def test_cron_syncs_enabled_gateways_from_their_creation(self):
        self._paid_invoices(2)
        self.gateway.sudo().sync_run_since = False
        # The gateway was created in this test class: the cron's first sync
        # starts there.
        self.env["paycrm.gateway"]._cron_paycrm_sync_events()
        self.assertEqual(len(self._synced()), 2)
        self.assertEqual(self.gateway.sync_state, "ok")
        # Disabled sync: nothing is asked.
        self.gateway.sync_enabled = False
        self.standin.requests.clear()
        self.env["paycrm.gateway"]._cron_paycrm_sync_events()
        self.assertFalse(self.standin.calls("GET", "/v1/events"))

    def test_refetch_a_range_is_idempotent(self):
        self._paid_invoices(2)
        wizard = self.env["paycrm.event.replay"].create(
            {
                "gateway_id": self.gateway.id,
                "mode": "refetch",
                "date_from": fields.Datetime.now() - timedelta(hours=1),
            }
        )
        first = wizard.action_paycrm_replay()
        self.assertIn("2 of them new", first["params"]["message"])
        again = wizard.action_paycrm_replay()
        self.assertIn("all of them stored already", again["params"]["message"])
        self.assertEqual(len(self._synced()), 2)
        # The sync's own run is left alone.
        self.assertEqual(self.gateway.sync_state, "never")

    def test_reprocess_a_range_of_stored_events(self):
        invoice = self._invoice(50.0)
        event = self._demo_payment(invoice, 5000)
        event["data"]["object"]["metadata"]["paycrm_invoice_id"] = "999999"
        self._post_demo(event)
        self._process()
        stored = self._event(event["id"])
        self.assertEqual(stored.state, "unmatched")
        wizard = self.env["paycrm.event.replay"].create(
            {
                "gateway_id": self.demo_gateway.id,
                "mode": "reprocess",
                "date_from": fields.Datetime.now() - timedelta(hours=1),
            }
        )
        self.assertIn("1 failed, unmatched or ignored", wizard.summary)
        outcome = wizard.action_paycrm_replay()
        self.assertIn("1 event(s) processed again", outcome["params"]["message"])
        # The demo gateway lists nothing: it cannot fetch again.
        wizard.mode = "refetch"
        with self.assertRaisesRegex(UserError, "cannot list its events"):
            wizard.action_paycrm_replay()


@tagged("post_install", "-at_install")
class TestGatewaySyncQa(WebhookHttpCase):
    """What QA of the catch-up sync found (issue 16)."""

    def setUp(self):
        super().setUp()
        self.standin.objects["event"].clear()
        self.gateway = self.stripe_gateway

    def _replay(self, mode, date_from):
        """The replay wizard in ``mode``, or as the first sync's."""
        vals = {"gateway_id": self.gateway.id, "date_from": date_from}
        if mode == "first_sync":
            vals["first_sync"] = True
        else:
            vals["mode"] = mode
        return self.env["paycrm.event.replay"].create(vals)

    def test_overlap_never_reaches_before_the_first_sync_start(self):
        # Paid half an hour ago, before the start the admin picks: booked
        # some other way, the sync must leave it alone, overlap or not.
        invoice = self._invoice(80.0)
        self._stripe_paid_session(invoice, 8000, created=int(time.time()) - 1800)
        start = fields.Datetime.now() - timedelta(minutes=5)
        self._replay("first_sync", start).action_paycrm_replay()
        self.assertEqual(self.gateway.sync_start, start)
        self.assertEqual(self.gateway.sync_state, "ok")
        # The next run starts an overlap (60 min) before the watermark.
        outcome = self.gateway._paycrm_sync_run()
        self.assertEqual(outcome["found"], 0)
        self.assertIn("was already stored", outcome["message"])
        self.assertFalse(
            self.events.search([("gateway_id", "=", self.gateway.id)]),
            "an event from before the first sync's start was stored",
        )

    def test_a_disabled_gateway_fetches_nothing_through_the_replay_wizard(self):
        wizard = self._replay("refetch", fields.Datetime.now() - timedelta(hours=1))
        self.gateway.state = "disabled"
        for first_sync in (False, True):
            wizard.first_sync = first_sync
            with self.assertRaisesRegex(UserError, "Enable the gateway"):
                wizard.action_paycrm_replay()
        self.assertFalse(self.standin.calls("GET", "/v1/events"))

    def test_replay_refuses_a_future_range_and_a_second_first_sync(self):
        wizard = self._replay("refetch", fields.Datetime.now() + timedelta(hours=1))
        wizard.date_to = False
        with self.assertRaisesRegex(UserError, "starts in the future"):
            wizard.action_paycrm_replay()
        start = fields.Datetime.now() - timedelta(hours=1)
        self._replay("first_sync", start).action_paycrm_replay()
        again = self._replay("first_sync", start - timedelta(hours=1))
        with self.assertRaisesRegex(UserError, "already synced"):
            again.action_paycrm_replay()
        self.assertEqual(len(self.standin.calls("GET", "/v1/events")), 1)

    def test_register_refused_to_a_clerk_in_its_own_words(self):
        clerk = self._make_internal_user("qa_clerk", GROUP_USER)
        with self.assertRaisesRegex(UserError, "register or check webhooks"):
            self.gateway.with_user(clerk).action_paycrm_register_webhook()

    def test_health_buttons_title_their_list(self):
        action = self.gateway.action_paycrm_view_sync_events()
        self.assertEqual(action["display_name"], action["name"])
        self.assertIn(self.gateway.name, action["display_name"])


@tagged("post_install", "-at_install")
class TestWebhookRegistration(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_paypal_gateway()

    def test_register_stripe_endpoint_stores_secret_and_checks(self):
        gateway = self.stripe_gateway
        gateway.webhook_secret = False
        gateway.action_paycrm_register_webhook()
        self.assertTrue(gateway.webhook_endpoint_id.startswith("we_"))
        self.assertTrue(gateway.webhook_secret.startswith("whsec_"))
        self.assertEqual(gateway.webhook_check_state, "ok")
        endpoint = self.standin.objects["webhook_endpoint"][gateway.webhook_endpoint_id]
        self.assertEqual(endpoint["url"], gateway.webhook_url)
        self.assertEqual(
            sorted(endpoint["enabled_events"]),
            sorted(gateway._paycrm_adapter().webhook_event_types()),
        )
        # A webhook signed with the stored secret is taken.
        invoice = self._invoice(10.0)
        paid = self._stripe_paid_session(invoice, 1000)
        self._send_stripe("checkout.session.completed", paid["session"])
        # Someone edits the endpoint in the dashboard: Check says what differs.
        endpoint["enabled_events"] = ["checkout.session.completed"]
        endpoint["url"] = "https://elsewhere.example.com/hook"
        gateway.action_paycrm_check_webhook()
        self.assertEqual(gateway.webhook_check_state, "differs")
        self.assertIn("payout.paid", gateway.webhook_check_message)
        self.assertIn("elsewhere.example.com", gateway.webhook_check_message)
        # Registering again updates that endpoint rather than adding one.
        gateway.action_paycrm_register_webhook()
        self.assertEqual(gateway.webhook_check_state, "ok")
        self.assertEqual(len(self.standin.objects["webhook_endpoint"]), 1)

    def test_stripe_check_without_endpoint_and_gateway_down(self):
        gateway = self.stripe_gateway
        self.standin.objects["webhook_endpoint"].clear()
        gateway.action_paycrm_check_webhook()
        self.assertEqual(gateway.webhook_check_state, "missing")
        self.standin.fail_next(503, path_prefix="/v1/webhook_endpoints")
        gateway.action_paycrm_check_webhook()
        self.assertEqual(gateway.webhook_check_state, "error")
        self.assertIn("try again later", gateway.webhook_check_message)
        self.standin.fail_next(503, path_prefix="/v1/webhook_endpoints")
        with self.assertRaisesRegex(UserError, "did not register"):
            gateway.action_paycrm_register_webhook()

    def test_register_paypal_webhook_keeps_its_id(self):
        gateway = self.paypal_gateway
        gateway.action_paycrm_register_webhook()
        self.assertEqual(gateway.webhook_check_state, "ok")
        self.assertTrue(gateway.paypal_webhook_id)
        self.assertEqual(gateway.paypal_webhook_id, gateway.webhook_endpoint_id)

    def test_demo_gateway_has_nothing_to_register(self):
        with self.assertRaisesRegex(UserError, "set the endpoint up by hand"):
            self.demo_gateway.action_paycrm_register_webhook()


@tagged("post_install", "-at_install")
class TestPaypalSync(PaypalFlowCase):
    def setUp(self):
        super().setUp()
        self.paypal_standin.events.clear()

    def test_lost_paypal_webhooks_are_booked_by_the_sync(self):
        invoices = [self._pp_invoice(40.0 + index) for index in range(3)]
        for invoice in invoices:
            self._pp_pay(invoice)
        # Another app's event type on the same account: not the connector's.
        self.paypal_standin.record_event(
            make_paypal_event(
                "BILLING.SUBSCRIPTION.CREATED", "subscription", {"id": "I-1"}
            )
        )
        self.paypal_gateway.sudo().sync_run_since = fields.Datetime.now() - timedelta(
            hours=1
        )
        outcome = self.paypal_gateway._paycrm_sync_run()
        self.assertEqual(outcome["state"], "ok")
        synced = self.events.search(
            [("gateway_id", "=", self.paypal_gateway.id), ("from_sync", "=", True)]
        )
        self.assertEqual(len(synced), 3)
        self.assertEqual(
            set(synced.mapped("event_type")), {"PAYMENT.CAPTURE.COMPLETED"}
        )
        # Fetched with the app's credentials: nothing left to verify.
        self.assertTrue(all(synced.mapped("verified")))
        self._process()
        self.assertEqual(set(synced.mapped("state")), {"done"})
        for invoice in invoices:
            self.assertEqual(invoice.payment_state, "paid")
        # The webhooks arrive at last: stored already, nothing booked twice.
        moves = len(self._pp_moves())
        for event in self.paypal_standin.events_of("PAYMENT.CAPTURE.COMPLETED"):
            self.assertEqual(self._post_paypal(event).status_code, 200)
        self._process()
        self.assertEqual(len(self._pp_moves()), moves)
