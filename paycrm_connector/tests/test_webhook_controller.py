"""The intake endpoint: status codes, storage, and nothing posted on bad input."""

import threading
from datetime import timedelta

import requests

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from ..gateways import signature
from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestWebhookController(WebhookHttpCase):
    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(100.0)
        self.moves_before = self.env["account.move"].search_count([])

    def _nothing_posted(self):
        self.assertEqual(self.env["account.move"].search_count([]), self.moves_before)

    def test_valid_demo_event_stored_and_acked(self):
        event = self._demo_payment(self.invoice, 10000)
        response = self._post_demo(event)
        self.assertEqual((response.status_code, response.text), (200, "ok"))
        stored = self._event(event["id"])
        self.assertEqual(stored.state, "received")
        self.assertEqual(stored.kind, "payment_succeeded")
        self.assertEqual(stored.sudo().payload, self._body(event).decode())
        # The ack did no accounting: the processor does.
        self._nothing_posted()
        self.assertEqual(self.invoice.payment_state, "not_paid")

    def test_duplicate_is_noop(self):
        event = self._demo_payment(self.invoice, 10000)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        moves = self.env["account.move"].search_count([])
        response = self._post_demo(event)
        self.assertEqual((response.status_code, response.text), (200, "duplicate"))
        self._process()
        self.assertEqual(len(self._event(event["id"])), 1)
        self.assertEqual(self.env["account.move"].search_count([]), moves)

    def test_unknown_gateway_404(self):
        response = self.url_open("/paycrm/webhook/999999", data=b"{}")
        self.assertEqual(
            (response.status_code, response.text), (404, "unknown gateway")
        )

    @mute_logger("odoo.addons.paycrm_connector.controllers.webhook")
    def test_oversize_413_before_signature(self):
        body = b" " * (const.WEBHOOK_MAX_BYTES + 1)
        response = self._post_raw(
            self.demo_gateway, body, {"Paycrm-Signature": "t=1,v1=bad"}
        )
        # Refused while reading (Odoo's own 413 page or ours), never a 500.
        self.assertEqual(response.status_code, 413)
        self.assertRegex(response.text, "(?i)too large")
        # The verifier was never reached: no rejected signature was counted.
        self.assertEqual(self.demo_gateway.bad_signature_count, 0)
        self.assertFalse(self.events.search_count([]))

    @mute_logger("odoo.addons.paycrm_connector.controllers.webhook")
    def test_bad_signatures_400_counted(self):
        event = self._demo_payment(self.invoice, 10000)
        body = self._body(event)
        cases = {
            "wrong secret": {"Paycrm-Signature": "t=%d,v1=%s" % (0, "0" * 64)},
            "missing header": {},
            "malformed header": {"Paycrm-Signature": "garbage"},
        }
        for name, headers in cases.items():
            with self.subTest(name):
                response = self._post_raw(self.demo_gateway, body, headers)
                self.assertEqual(response.status_code, 400)
                self.assertIn("invalid signature", response.text)
        stale = self._post_demo(event, timestamp=1_000_000_000)
        self.assertEqual(stale.status_code, 400)
        self.assertIn("tolerance", stale.text)
        other = self._post_demo(event, secret="not-the-secret")
        self.assertEqual(other.status_code, 400)
        self.demo_gateway.invalidate_recordset()
        self.assertEqual(self.demo_gateway.bad_signature_count, 5)
        self.assertFalse(self.events.search_count([]))
        self._nothing_posted()

    @mute_logger("odoo.addons.paycrm_connector.controllers.webhook")
    def test_missing_secret_fails_closed(self):
        self.demo_gateway.webhook_secret = False
        event = self._demo_payment(self.invoice, 10000)
        response = self._post_demo(event, secret="anything")
        self.assertEqual(response.status_code, 400)
        self.assertIn("no webhook secret", response.text)
        self.assertFalse(self.events.search_count([]))

    def test_malformed_json_400(self):
        for body in (b"{not json", b"[1, 2]", b'{"type": "payment.succeeded"}'):
            with self.subTest(body=body):
                response = self._post_demo(body)
                self.assertEqual(response.status_code, 400)
        self.assertFalse(self.events.search_count([]))

    def test_unknown_type_ignored_200(self):
        event = self._demo_payment(self.invoice, 10000)
        event["type"] = "customer.updated"
        response = self._post_demo(event)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._event(event["id"]).state, "ignored")
        self._process()
        self._nothing_posted()

    def test_disabled_gateway_stores_then_processes(self):
        self.demo_gateway.state = "disabled"
        event = self._demo_payment(self.invoice, 10000)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        self.assertEqual(self._event(event["id"]).state, "received")
        self._nothing_posted()
        self.demo_gateway.state = "test"
        self._process()
        self.assertEqual(self._event(event["id"]).state, "done")
        self.assertEqual(self.invoice.payment_state, "paid")

    def test_stripe_signature_checked_by_sdk(self):
        event = self._stripe_event("payment_intent.created", {"id": "pi_x"})
        self.assertEqual(self._post_stripe(event).status_code, 200)
        self.assertEqual(self._event(event["id"], self.stripe_gateway).state, "ignored")
        with mute_logger("odoo.addons.paycrm_connector.controllers.webhook"):
            stale = self._post_stripe(
                self._stripe_event("payment_intent.created", {"id": "pi_y"}),
                timestamp=1_000_000_000,
            )
            self.assertEqual(stale.status_code, 400)
            wrong = self._post_stripe(
                self._stripe_event("payment_intent.created", {"id": "pi_z"}),
                secret="whsec_other",
            )
            self.assertEqual(wrong.status_code, 400)
            missing = self._post_raw(self.stripe_gateway, b"{}", {})
            self.assertEqual(missing.status_code, 400)
        self.stripe_gateway.invalidate_recordset()
        self.assertEqual(self.stripe_gateway.bad_signature_count, 3)


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(WebhookHttpCase):
    def test_same_event_two_threads_posts_once(self):
        invoice = self._invoice(100.0)
        event = self._demo_payment(invoice, 10000)
        body = self._body(event)
        headers = {
            "Paycrm-Signature": signature.header(
                body, self.demo_gateway.webhook_secret
            ),
            "Content-Type": "application/json",
        }
        url = f"{self.base_url()}/paycrm/webhook/{self.demo_gateway.id}"
        barrier = threading.Barrier(2)
        answers = []

        def deliver():
            barrier.wait(timeout=10)
            answers.append(requests.post(url, data=body, headers=headers, timeout=30))

        threads = [threading.Thread(target=deliver) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(sorted(a.status_code for a in answers), [200, 200])
        self.assertEqual(sorted(a.text for a in answers), ["duplicate", "ok"])
        self._process()
        self.assertEqual(len(self._event(event["id"])), 1)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(
            self.events.search_count([("booking_key", "=like", "pay:%")]), 1
        )


@tagged("post_install", "-at_install")
class TestWebhookIntakeCost(WebhookHttpCase):
    """What an intake costs: the gateway's settings come from a cache, the
    processor is triggered once per run rather than once per event."""

    def setUp(self):
        super().setUp()
        self.cron = self.env.ref("paycrm_connector.ir_cron_paycrm_process_events")
        self.triggers = self.env["ir.cron.trigger"].sudo()
        self._consume_triggers()

    def _consume_triggers(self):
        # What Odoo does when a run of the job ends.
        self.triggers.search([("cron_id", "=", self.cron.id)]).unlink()

    def _due_triggers(self):
        return self.triggers.search_count([("cron_id", "=", self.cron.id)])

    def _store(self, invoice, ref):
        event = self._demo_payment(invoice, 1000, ref=ref)
        return self.events._paycrm_store(self.demo_gateway, self._body(event), event)

    def test_one_trigger_per_run(self):
        invoices = [self._invoice(100.0) for _n in range(3)]
        for n, invoice in enumerate(invoices):
            response = self._post_demo(
                self._demo_payment(invoice, 1000, ref=f"demo_pay_run1_{n}")
            )
            self.assertEqual(response.text, "ok")
        self.assertEqual(self._due_triggers(), 1)
        self._consume_triggers()
        response = self._post_demo(self._demo_payment(invoices[0], 1000))
        self.assertEqual(response.text, "ok")
        self.assertEqual(self._due_triggers(), 1, "a new run is triggered")

    def test_no_trigger_for_ignored_or_disabled(self):
        invoice = self._invoice(100.0)
        ignored = self._demo_payment(invoice, 1000, ref="demo_pay_ignored")
        ignored["type"] = "customer.updated"
        self.assertEqual(self._post_demo(ignored).text, "ok")
        self.demo_gateway.state = "disabled"
        self.assertEqual(self._post_demo(self._demo_payment(invoice, 1000)).text, "ok")
        self.assertEqual(self._due_triggers(), 0)

    def test_a_retry_trigger_does_not_stand_in(self):
        # A trigger due in the future (a back-off) wakes nothing now.
        self.cron._trigger(fields.Datetime.now() + timedelta(minutes=5))
        self._store(self._invoice(100.0), "demo_pay_after_backoff")
        self.assertEqual(self._due_triggers(), 2)

    def test_intake_queries(self):
        invoice = self._invoice(100.0)
        self._store(invoice, "demo_pay_warm")
        # The INSERT and the look for a waiting trigger: no gateway row read.
        with self.assertQueryCount(2):
            record, created = self._store(invoice, "demo_pay_cheap")
        self.assertTrue(created)
        self.assertEqual(record.state, "received")

    def test_settings_follow_gateway_changes(self):
        invoice = self._invoice(100.0)
        self.assertEqual(self._post_demo(self._demo_payment(invoice, 1000)).text, "ok")
        self.demo_gateway.webhook_secret = "rotated-secret"
        event = self._demo_payment(invoice, 1000, ref="demo_pay_rotated")
        with mute_logger("odoo.addons.paycrm_connector.controllers.webhook"):
            stale = self._post_demo(event, secret="old-secret-not-valid")
        self.assertEqual(stale.status_code, 400)
        self.assertEqual(self._post_demo(event).text, "ok")
        gateway = self.env["paycrm.gateway"].create(
            {"name": "New demo", "provider": "demo", "company_id": self.company.id}
        )
        self.assertEqual(self._post_demo(event, gateway=gateway).text, "ok")
        self.assertEqual(self._event(event["id"], gateway).company_id, self.company)
