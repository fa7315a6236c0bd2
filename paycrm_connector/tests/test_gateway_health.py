"""Endpoint health: the figures of the Gateway Health card and gateway form,
their words, and the alerts about lost webhooks and rejected signatures."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL, mute_logger

from .common import GROUP_USER
from .webhook_common import WebhookCommon, WebhookHttpCase

CARD_FIELDS = [
    "name",
    "provider",
    "state",
    "health_state",
    "health_summary",
    "health_last_webhook_at",
    "health_last_sync_at",
    "health_event_count_24h",
    "health_lag_p95",
    "health_lag_p95_display",
    "health_failed_count",
    "health_unmatched_count",
    "health_sync_only_count",
    "health_bad_signature_hour",
    "bad_signature_count",
    "bad_signature_last_at",
]


def _alerts(env, kind):
    return env["paycrm.alert"].search([("kind", "=", kind)])


class HealthCommon(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.env["account.move"]
        cls.other_gateway = cls.env["paycrm.gateway"].create(
            {"name": "Other demo", "provider": "demo", "company_id": cls.company.id}
        )
        cls.company.paycrm_alert_webhook_silent_hours = 12
        cls.company.paycrm_alert_signature_failures = 10

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now()
        self.seq = 0

    def _store(self, gateway=None, from_sync=False, age=None, state=None, lag=None):
        """An event stored through the real intake, then aged: created
        ``age`` ago (a timedelta), in ``state``, booked ``lag`` seconds after
        it arrived, marked found by the sync (what the sync stores)."""
        gateway = gateway or self.demo_gateway
        if not self.invoice:
            self.invoice = self._invoice(100.0)
        self.seq += 1
        event = self._demo_payment(
            self.invoice, 1000, ref=f"demo_pay_health_{self.seq}"
        )
        record, created = self.events._paycrm_store(gateway, self._body(event), event)
        self.assertTrue(created)
        created_at = self.now - (age or timedelta(0))
        self.env.cr.execute(
            SQL(
                """UPDATE paycrm_event SET from_sync = %s, create_date = %s,
                          state = COALESCE(%s, state), done_at = %s
                    WHERE id = %s""",
                from_sync,
                created_at,
                state,
                created_at + timedelta(seconds=lag) if lag is not None else None,
                record.id,
            )
        )
        self.env.invalidate_all()
        return record

    def _set_signature_window(self, gateway, start, count):
        self.env.cr.execute(
            SQL(
                """UPDATE paycrm_gateway SET bad_signature_window_start = %s,
                          bad_signature_window_count = %s WHERE id = %s""",
                start,
                count,
                gateway.id,
            )
        )
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestGatewayHealth(HealthCommon):
    def test_figures(self):
        hours = timedelta(hours=1)
        # Webhook events: booked a day and a half ago (outside the lag
        # window), twenty booked in the last hours 1..20 s after arrival,
        # one failed, one unmatched.
        self._store(age=36 * hours, state="done", lag=500)
        for n in range(1, 21):
            self._store(age=(n % 5 + 2) * hours, state="done", lag=n)
        self._store(age=3 * hours, state="failed")
        last_webhook = self._store(age=2 * hours, state="unmatched")
        # Found only by the sync: two today, one ten days ago, one too old.
        newest_sync = self._store(from_sync=True, age=hours / 2, state="done", lag=1)
        self._store(from_sync=True, age=5 * hours)
        self._store(from_sync=True, age=240 * hours)
        self._store(from_sync=True, age=960 * hours)
        gateways = self.demo_gateway + self.other_gateway
        gateways.mapped("health_summary")  # warms the record rules' cache
        self.env.invalidate_all()
        # Three queries for every gateway at once: the events' figures in one
        # grouped query, the gateway rows, the company thresholds.
        with self.assertQueryCount(3):
            gateways.mapped("health_summary")
        demo = self.demo_gateway
        self.assertEqual(demo.health_last_webhook_at, last_webhook.create_date)
        self.assertEqual(demo.health_last_sync_at, newest_sync.create_date)
        self.assertEqual(demo.health_event_count_24h, 20 + 2 + 2)
        self.assertEqual(demo.health_failed_count, 1)
        self.assertEqual(demo.health_unmatched_count, 1)
        self.assertEqual(demo.health_sync_only_count, 3)
        self.assertEqual(demo.health_sync_only_24h, 2)
        # percentile_cont over 1..20 s and the sync's 1 s: 21 values.
        lags = sorted([*range(1, 21), 1])
        rank = 0.95 * (len(lags) - 1)
        low = int(rank)
        expected = lags[low] + (rank - low) * (lags[low + 1] - lags[low])
        self.assertAlmostEqual(demo.health_lag_p95, expected, places=3)
        self.assertEqual(demo.health_lag_p95_display, f"{round(expected, 1)} s")
        self.assertEqual(demo.health_state, "danger")
        self.assertTrue(
            demo.health_summary.startswith(
                "2 event(s) reached Odoo only through the sync in the last 24 "
                "hours: webhooks are being lost"
            ),
            demo.health_summary,
        )
        self.assertIn("1 event(s) failed", demo.health_summary)
        self.assertIn("1 event(s) wait to be matched", demo.health_summary)
        self.assertIn("1 event(s) of the last 30 days", demo.health_summary)
        other = self.other_gateway
        self.assertEqual((other.health_state, other.health_summary), ("ok", "Healthy"))
        self.assertFalse(other.health_last_webhook_at)
        self.assertFalse(other.health_lag_p95_display)
        self.assertEqual(other.health_event_count_24h, 0)

    def test_words(self):
        gateway = self.demo_gateway
        self.assertEqual(gateway._paycrm_duration_words(1.23), "1.2 s")
        self.assertEqual(gateway._paycrm_duration_words(90), "1.5 min")
        self.assertEqual(gateway._paycrm_duration_words(7200), "2.0 h")
        # Done events only: healthy.
        self._store(age=timedelta(hours=1), state="done", lag=2)
        self.assertEqual(
            (gateway.health_state, gateway.health_summary), ("ok", "Healthy")
        )
        # Signature failures under the threshold: a look is needed.
        self._set_signature_window(gateway, self.now - timedelta(minutes=10), 5)
        self.assertEqual(gateway.health_state, "warning")
        self.assertEqual(
            gateway.health_summary,
            "5 signature failure(s) in the last hour: was the signing secret rotated?",
        )
        # At the threshold: failing. An old window counts for nothing.
        self._set_signature_window(gateway, self.now - timedelta(minutes=10), 10)
        self.assertEqual(gateway.health_state, "danger")
        self._set_signature_window(gateway, self.now - timedelta(hours=2), 50)
        self.assertEqual(gateway.health_bad_signature_hour, 0)
        self.assertEqual(gateway.health_state, "ok")

    def test_bad_signature_count_is_one_statement(self):
        gateway = self.demo_gateway
        gateway._paycrm_count_bad_signature()
        # The count, the window and the company's threshold: one UPDATE.
        with self.assertQueryCount(1):
            gateway._paycrm_count_bad_signature()
        self.assertEqual(gateway.bad_signature_window_count, 2)
        self.assertEqual(gateway.bad_signature_count, 2)
        self.assertFalse(_alerts(self.env, "signature_failures"))

    def test_silence_words(self):
        gateway = self.demo_gateway
        self._store(age=timedelta(hours=7), state="done", lag=1)
        self._store(from_sync=True, age=timedelta(minutes=30))
        self.assertEqual(gateway.health_state, "danger")
        self.assertEqual(
            gateway.health_summary,
            "1 event(s) reached Odoo only through the sync in the last 24 hours: "
            "webhooks are being lost; No webhook for 7 h, though the sync found "
            "newer events",
        )
        # A sync-only gateway that never got a webhook.
        self._store(self.other_gateway, from_sync=True, age=timedelta(days=3))
        self.assertEqual(self.other_gateway.health_state, "danger")
        self.assertIn("No webhook received yet", self.other_gateway.health_summary)

    def test_webhook_missed_alert_once_per_day(self):
        alerts = self.env["paycrm.alert"]
        self.assertFalse(
            alerts._paycrm_alert_webhook_missed(self.demo_gateway, self.events)
        )
        found = self.events.browse()
        for hours in (5, 3, 1):
            found |= self._store(from_sync=True, age=timedelta(hours=hours))
        alert = alerts._paycrm_alert_webhook_missed(self.demo_gateway, found)
        self.assertEqual(alert.kind, "webhook_missed")
        self.assertEqual(alert.gateway_id, self.demo_gateway)
        self.assertFalse(alert.partner_id)
        self.assertIn("found 3 event(s) of Demo", alert.message)
        self.assertIn(self.demo_gateway.webhook_url, alert.message)
        self.assertIn("TLS", alert.message)
        self.assertIn("Demo", alert.display_name)
        # A second sync the same day: no second alert.
        more = self._store(from_sync=True, age=timedelta(minutes=5))
        self.assertFalse(alerts._paycrm_alert_webhook_missed(self.demo_gateway, more))
        self.assertEqual(len(_alerts(self.env, "webhook_missed")), 1)
        # Another gateway has its own window.
        other = self._store(self.other_gateway, from_sync=True)
        self.assertTrue(alerts._paycrm_alert_webhook_missed(self.other_gateway, other))
        self.assertEqual(len(_alerts(self.env, "webhook_missed")), 2)

    def test_webhook_silent_alert_once_per_window(self):
        alerts = self.env["paycrm.alert"]
        gateway = self.demo_gateway
        recent = self.now - timedelta(hours=1)
        # Nothing reported by the gateway, or activity older than the window.
        self.assertFalse(alerts._paycrm_alert_webhook_silent(gateway, False))
        self.assertFalse(
            alerts._paycrm_alert_webhook_silent(gateway, self.now - timedelta(hours=13))
        )
        # A webhook within the last 12 hours: not silent.
        webhook = self._store(age=timedelta(hours=11))
        self.assertFalse(alerts._paycrm_alert_webhook_silent(gateway, recent))
        # The last webhook 13 hours ago while the gateway was active: alert,
        # once for the window.
        self.env.cr.execute(
            SQL(
                "UPDATE paycrm_event SET create_date = %s WHERE id = %s",
                self.now - timedelta(hours=13),
                webhook.id,
            )
        )
        # Events the sync found do not count as webhooks.
        self._store(from_sync=True, age=timedelta(hours=1))
        alert = alerts._paycrm_alert_webhook_silent(gateway, recent)
        self.assertEqual(alert.kind, "webhook_silent")
        self.assertEqual(alert.gateway_id, gateway)
        self.assertIn("No webhook from Demo for 12 hours", alert.message)
        self.assertFalse(alerts._paycrm_alert_webhook_silent(gateway, self.now))
        self.assertEqual(len(_alerts(self.env, "webhook_silent")), 1)
        # A gateway that never delivered a webhook: not while it is younger
        # than the window, then in its own words.
        other = self.other_gateway
        self.assertFalse(alerts._paycrm_alert_webhook_silent(other, recent))
        self.env.cr.execute(
            SQL(
                "UPDATE paycrm_gateway SET create_date = %s WHERE id = %s",
                self.now - timedelta(hours=13),
                other.id,
            )
        )
        other.invalidate_recordset(["create_date"])
        never = alerts._paycrm_alert_webhook_silent(other, recent)
        self.assertIn("No webhook received from", never.message)

    def test_views_and_user_access(self):
        views = self.env["paycrm.gateway"].get_views(
            [(False, "kanban"), (False, "form")]
        )
        self.assertIn("health_summary", views["views"]["kanban"]["arch"])
        self.assertIn("health_lag_p95_display", views["views"]["form"]["arch"])
        user = self._make_internal_user("paycrm_health_user", GROUP_USER)
        gateway = self.demo_gateway.with_user(user)
        as_user = gateway.env["paycrm.gateway"].get_views(
            [(False, "kanban"), (False, "form")]
        )
        self.assertIn(
            "action_paycrm_view_failed_events", as_user["views"]["kanban"]["arch"]
        )
        self._store(state="failed")
        self._store(from_sync=True)
        [card] = gateway.read(CARD_FIELDS)
        self.assertEqual(card["health_failed_count"], 1)
        self.assertEqual(card["health_sync_only_count"], 1)
        self.assertEqual(card["health_state"], "danger")
        for method, domain in (
            ("action_paycrm_view_failed_events", ("state", "=", "failed")),
            ("action_paycrm_view_unmatched_events", ("state", "=", "unmatched")),
            ("action_paycrm_view_sync_events", ("from_sync", "=", True)),
        ):
            action = getattr(gateway, method)()
            self.assertEqual(action["res_model"], "paycrm.event")
            self.assertIn(domain, action["domain"])
            self.assertIn(("gateway_id", "=", gateway.id), action["domain"])
        events = gateway.env["paycrm.event"].search(
            gateway.action_paycrm_view_failed_events()["domain"]
        )
        self.assertEqual(events.mapped("state"), ["failed"])
        menu = self.env.ref("paycrm_connector.paycrm_menu_gateway_health")
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        action = self.env.ref("paycrm_connector.paycrm_gateway_health_action")
        self.assertEqual(action.view_id.type, "kanban")


@tagged("post_install", "-at_install")
class TestGatewaySignatureAlert(WebhookHttpCase):
    """Rejected signatures through the real webhook route raise one alert per
    gateway and hour once they reach the company's threshold."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.paycrm_alert_signature_failures = 3

    def _bad_post(self, invoice):
        event = self._demo_payment(invoice, 1000)
        response = self._post_demo(event, secret="rotated-elsewhere")
        self.assertEqual(response.status_code, 400)
        self.assertIn("invalid signature", response.text)

    def _alerts(self):
        return _alerts(self.env, "signature_failures")

    @mute_logger("odoo.addons.paycrm_connector.controllers.webhook")
    def test_threshold_alert_once_per_hour(self):
        invoice = self._invoice(100.0)
        gateway = self.demo_gateway
        for _n in range(2):
            self._bad_post(invoice)
        self.assertFalse(self._alerts())
        self._bad_post(invoice)
        alert = self._alerts()
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.gateway_id, gateway)
        self.assertIn("3 webhook posts to Demo were rejected", alert.message)
        self.assertIn("was the webhook signing secret rotated?", alert.message)
        for _n in range(3):
            self._bad_post(invoice)
        gateway.invalidate_recordset()
        self.assertEqual(len(self._alerts()), 1)
        self.assertEqual(gateway.bad_signature_count, 6)
        self.assertEqual(gateway.bad_signature_window_count, 6)
        self.assertTrue(gateway.bad_signature_last_at)
        self.assertEqual(gateway.health_bad_signature_hour, 6)
        self.assertEqual(gateway.health_state, "danger")
        # An hour later a new window starts: counted from one, alerted again.
        self.env.cr.execute(
            SQL(
                "UPDATE paycrm_gateway SET bad_signature_window_start = "
                "bad_signature_window_start - interval '61 minutes' WHERE id = %s",
                gateway.id,
            )
        )
        self._bad_post(invoice)
        gateway.invalidate_recordset()
        self.assertEqual(gateway.bad_signature_window_count, 1)
        self.assertEqual(len(self._alerts()), 1)
        for _n in range(2):
            self._bad_post(invoice)
        self.assertEqual(len(self._alerts()), 2)
        # A good delivery still goes through.
        response = self._post_demo(self._demo_payment(invoice, 1000))
        self.assertEqual((response.status_code, response.text), (200, "ok"))


@tagged("post_install", "-at_install")
class TestGatewayHealthTour(HealthCommon, HttpCase):
    """The dashboard in a browser, for a connector user (not an administrator):
    the card renders its figures and opens the failed events."""

    browser_size = "1440x900"

    def test_user_reads_card_and_opens_failed_events(self):
        user = self._make_internal_user("paycrm_health_tour", GROUP_USER)
        self.demo_gateway.name = "Health Demo"
        self._store(age=timedelta(hours=2), state="done", lag=2)
        self._store(age=timedelta(hours=1), state="failed")
        self._store(from_sync=True, age=timedelta(minutes=30))
        self.start_tour(
            "/odoo/action-paycrm_connector.paycrm_gateway_health_action",
            "paycrm_gateway_health_card",
            login=user.login,
        )


@tagged("post_install", "-at_install")
class TestGatewayHealthAfterSync(WebhookHttpCase):
    """The lead's catch-up sync against the Stripe stand-in, end to end: the
    events no webhook delivered show on the card and raise one alert a day."""

    def test_sync_of_missed_webhooks_alerts_and_shows_on_card(self):
        self.standin.objects["event"].clear()
        gateway = self.stripe_gateway
        for _n in range(3):
            invoice = self._invoice(100.0)
            self._stripe_paid_session(invoice, 10000)
        # Sent by the gateway an hour ago (past the sync's grace period).
        for event in self.standin.objects["event"].values():
            event["created"] -= 3600
        wizard = self.env["paycrm.event.replay"].create(
            {
                "gateway_id": gateway.id,
                "first_sync": True,
                "date_from": fields.Datetime.now() - timedelta(hours=3),
            }
        )
        wizard.action_paycrm_replay()
        alert = _alerts(self.env, "webhook_missed")
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.gateway_id, gateway)
        self.assertIn("found 3 event(s) of Stripe", alert.message)
        # Never a webhook, but the gateway was added within the silence
        # window: "missed" says it, "silent" not yet.
        self.assertFalse(_alerts(self.env, "webhook_silent"))
        gateway.invalidate_recordset()
        self.assertEqual(gateway.health_sync_only_count, 3)
        self.assertEqual(gateway.health_state, "danger")
        self.assertTrue(
            gateway.health_summary.startswith(
                "3 event(s) reached Odoo only through the sync"
            ),
            gateway.health_summary,
        )
        # A second sync the same day: nothing new, no second alert.
        gateway._paycrm_sync_run()
        self.assertEqual(len(_alerts(self.env, "webhook_missed")), 1)
        self.assertFalse(_alerts(self.env, "webhook_silent"))
