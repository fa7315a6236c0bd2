"""A PayPal verification outage loses nothing.

Events PayPal's verify-webhook-signature API could not vouch for are stored,
asked about again with back-off for the gateway's verification window (PayPal
retries a delivery for 3 days), whatever *Event Retries* says, and booked as
soon as the API answers; only PayPal's "no" (or the window's end) fails them.
Time is moved forward with freezegun around the processor runs only.
"""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .paypal_common import PaypalFlowCase

WEBHOOK_LOGGER = "odoo.addons.paycrm_connector.controllers.webhook"
VERIFY = "/v1/notifications/verify-webhook-signature"


@tagged("post_install", "-at_install")
class TestPaypalVerifyOutage(PaypalFlowCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.paypal_standin.clear_faults)
        self.start = fields.Datetime.now()

    def _outage(self):
        """PayPal's verification API answers 503 until ``clear_faults``."""
        self.paypal_standin.fail_next(503, count=10**6, path_prefix=VERIFY)

    def _run_at(self, minutes):
        """One processor run ``minutes`` after the test started, back-off kept."""
        with freeze_time(self.start + timedelta(minutes=minutes)):
            self.events._paycrm_process_batch(500)
        self.env.invalidate_all()

    def _stored(self, events):
        stored = self.events.search(
            [
                ("gateway_id", "=", self.paypal_gateway.id),
                ("external_id", "in", [event["id"] for event in events]),
            ]
        )
        self.assertEqual(len(stored), len(events))
        return stored

    @mute_logger(WEBHOOK_LOGGER)
    def test_30_minute_outage_books_every_event_once_after_it(self):
        self.assertEqual(self.paypal_gateway.verify_window_hours, 72)
        invoices = [self._pp_invoice(amount) for amount in (40.0, 55.5, 80.0)]
        captures = [self._pp_pay(invoice) for invoice in invoices]
        refund = self.paypal_gateway._paycrm_adapter().refund_capture(
            captures[0], 1000, "USD", "outage-refund"
        )
        events = [self.paypal_standin.capture_event(ref) for ref in captures]
        events.append(self.paypal_standin.refund_event(refund.refund_id))

        self._outage()
        for event in events:
            self.assertEqual(self._post_paypal(event).status_code, 200)
        self.assertEqual(self._post_paypal(events[1]).text, "duplicate")
        stored = self._stored(events)
        self.assertEqual(set(stored.mapped("verified")), {False})
        # The processor is due again when the first back-off ends.
        cron = self.env.ref("paycrm_connector.ir_cron_paycrm_process_events")
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", "=", stored[0].next_try)]
        )
        self.assertTrue(trigger)

        # Thirty minutes of outage, the processor running every minute.
        for minute in range(1, 31):
            self._run_at(minute)
            self.assertEqual(set(stored.mapped("state")), {"received"})
        self.assertFalse(self._pp_moves())
        # More tries than Event Retries allows a booking: none failed.
        self.assertGreaterEqual(
            min(stored.mapped("attempts")), self.paypal_gateway.event_max_attempts
        )
        self.assertIn("Not verified yet", stored[0].last_error)
        # The gateway-health line says how many wait and since when.
        gateway = self.paypal_gateway
        gateway.invalidate_recordset()
        self.assertEqual(gateway.unverified_count, len(events))
        self.assertEqual(gateway.unverified_since, min(stored.mapped("create_date")))
        self.assertIn(f"{len(events)} event(s) wait", gateway.verify_health)

        # A last capture arrives in the outage's last minute, then PayPal's
        # verification answers again. The run that verifies that newest event
        # books every waiting one: none waits for the end of its own back-off.
        late_invoice = self._pp_invoice(25.0)
        late = self.paypal_standin.capture_event(self._pp_pay(late_invoice))
        self.assertEqual(self._post_paypal(late).status_code, 200)
        self.paypal_standin.clear_faults()
        events.append(late)
        stored = self._stored(events)
        self.assertTrue(
            any(event.next_try > self.start + timedelta(minutes=31) for event in stored)
        )
        self._run_at(31)

        self.assertEqual(
            set(stored.mapped("state")), {"done"}, stored.mapped("last_error")
        )
        self.assertEqual(set(stored.mapped("verified")), {True})
        self.assertEqual(len(stored.move_id), len(events))
        for invoice in [*invoices, late_invoice]:
            self.assertIn(invoice.payment_state, ("paid", "in_payment", "partial"))
        self.assertAlmostEqual(invoices[0].paycrm_amount_received, 30.0)
        # Captures, the refund and the fee PayPal handed back with it.
        self.assertEqual(len(self._pp_moves()), len(events) + 1)
        gateway.invalidate_recordset()
        self.assertEqual(gateway.unverified_count, 0)
        self.assertFalse(gateway.verify_health)

        # Nothing is booked twice by later runs or a redelivery.
        self._post_paypal(events[2])
        self._process()
        self.assertEqual(len(self._pp_moves()), len(events) + 1)

    @mute_logger(WEBHOOK_LOGGER)
    def test_outage_then_paypal_says_no_ends_failed(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        self._outage()
        self._post_paypal(event)
        stored = self._pp_event(event)
        for minute in range(1, 31):
            self._run_at(minute)
        self.assertEqual(stored.state, "received")
        # The API is back and says PayPal never sent this event.
        self.paypal_standin.clear_faults()
        self.paypal_standin.valid_signatures = False
        self._run_at(60)
        self.assertEqual((stored.state, stored.verified), ("failed", False))
        self.assertIn("did not confirm", stored.last_error)
        self.assertFalse(self._pp_moves())
        self.assertEqual(invoice.payment_state, "not_paid")

    @mute_logger(WEBHOOK_LOGGER)
    def test_outage_longer_than_the_window_ends_failed(self):
        # The window is the admin's to set on the gateway.
        self.paypal_gateway.verify_window_hours = 1
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        self._outage()
        self._post_paypal(event)
        stored = self._pp_event(event)
        deadline = stored.create_date + timedelta(hours=1)
        minute = 0
        while stored.state == "received" and minute < 120:
            minute += 1
            self._run_at(minute)
            # The last try falls on the window's end, never after it.
            self.assertLessEqual(stored.next_try or deadline, deadline)
        self.assertEqual(stored.state, "failed")
        self.assertIn("verification window (1 h)", stored.last_error)
        self.assertFalse(self._pp_moves())
        # Reprocess asks PayPal once more: answered now, booked.
        self.paypal_standin.clear_faults()
        stored.action_paycrm_reprocess()
        self.assertEqual((stored.state, stored.verified), ("done", True))
        self.assertEqual(len(self._pp_moves()), 1)
