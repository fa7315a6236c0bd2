"""The one queue mechanism (paycrm.queue.mixin) every retried work shares:
claim, back-off, transient or permanent errors, give-up, one trigger."""

from datetime import timedelta

import psycopg2
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .. import const
from ..gateways import GatewayError, GatewayUnreachable
from ..models.paycrm_event import PaycrmRetry
from .webhook_common import WebhookCommon


@tagged("post_install", "-at_install")
class TestQueueMixin(WebhookCommon):
    def setUp(self):
        super().setUp()
        self.cron = self.env.ref("paycrm_connector.ir_cron_paycrm_process_events")
        self.triggers = self.env["ir.cron.trigger"].sudo()
        self.triggers.search([("cron_id", "=", self.cron.id)]).unlink()

    def _store(self, ref):
        event = self._demo_payment(self._invoice(100.0), 1000, ref=ref)
        record, created = self.events._paycrm_store(
            self.demo_gateway, self._body(event), event
        )
        self.assertTrue(created)
        return record

    def _pg_error(self, sqlstate):
        """A real database error of that SQLSTATE, as a worker would get it."""
        with self.assertRaises(psycopg2.Error) as caught, self.env.cr.savepoint():
            self.env.cr.execute(
                f"DO $$ BEGIN RAISE SQLSTATE '{sqlstate}'; END $$",
                log_exceptions=False,
            )
        return caught.exception

    def test_backoff_doubles_up_to_its_cap(self):
        backoff = self.events._paycrm_queue_backoff
        base = const.EVENT_RETRY_BASE_SECONDS
        self.assertEqual([backoff(n) for n in (1, 2, 3)], [base, 2 * base, 4 * base])
        self.assertEqual(backoff(40), const.EVENT_RETRY_MAX_SECONDS)
        self.assertEqual(backoff(40, cap=900), 900)

    def test_transient_or_permanent(self):
        links = self.env["paycrm.link"]
        for sqlstate, transient in (
            ("40001", True),  # serialization failure
            ("40P01", True),  # deadlock
            ("55P03", True),  # lock not available
            ("22012", False),  # division by zero: retrying changes nothing
        ):
            with self.subTest(sqlstate=sqlstate):
                error = self._pg_error(sqlstate)
                self.assertEqual(links._paycrm_queue_is_transient(error), transient)
        self.assertTrue(links._paycrm_queue_is_transient(GatewayUnreachable("down")))
        self.assertFalse(links._paycrm_queue_is_transient(GatewayError("refused")))
        self.assertFalse(links._paycrm_queue_is_transient(ValueError("bug")))
        # Events add theirs: a payment not booked yet, and a crash (a bug
        # fixed later must find the event still retried).
        self.assertTrue(self.events._paycrm_queue_is_transient(PaycrmRetry("later")))
        self.assertTrue(self.events._paycrm_queue_is_transient(ValueError("bug")))
        self.assertFalse(self.events._paycrm_queue_is_transient(UserError("no")))
        self.assertIn(
            "Database conflict (40001)",
            self.events._paycrm_queue_error_message(self._pg_error("40001")),
        )

    def test_retry_backs_off_then_gives_up(self):
        self.demo_gateway.event_max_attempts = 3
        event = self._store("demo_pay_queue_retry")
        with freeze_time("2026-01-05 10:00:00"):
            now = fields.Datetime.now()
            self.assertTrue(event._paycrm_queue_retry("gateway down"))
            self.assertEqual(
                (event.state, event.attempts, event.last_error),
                ("received", 1, "gateway down"),
            )
            self.assertEqual(event.next_try, now + timedelta(seconds=30))
            self.assertTrue(event._paycrm_queue_retry("still down"))
            self.assertEqual(event.next_try, now + timedelta(seconds=60))
            # Not due yet: the claim leaves it; forced, it takes it.
            self.assertFalse(self.events._paycrm_queue_claim(10))
            self.assertEqual(self.events._paycrm_queue_claim(10, force=True), event)
            self.assertFalse(event._paycrm_queue_retry("down for good"))
        self.assertEqual(
            (event.state, event.attempts, event.next_try, event.last_error),
            ("failed", 3, False, "down for good"),
        )

    def test_errors_are_classified(self):
        retried, failed = self._store("demo_pay_q_a"), self._store("demo_pay_q_b")
        retried._paycrm_queue_error(self._pg_error("40001"))
        failed._paycrm_queue_error(GatewayError("The gateway refused the key."))
        self.assertEqual((retried.state, retried.attempts), ("received", 1))
        self.assertEqual(
            (failed.state, failed.attempts, failed.last_error),
            ("failed", 1, "The gateway refused the key."),
        )

    def test_one_trigger_per_moment(self):
        events = self._store("demo_pay_q_1") | self._store("demo_pay_q_2")
        self.triggers.search([("cron_id", "=", self.cron.id)]).unlink()
        with freeze_time("2026-01-05 10:00:00"):
            for event in events:
                event._paycrm_queue_retry("down")
            self.events._paycrm_queue_trigger()
            self.events._paycrm_queue_trigger()
            triggers = self.triggers.search([("cron_id", "=", self.cron.id)])
            # One for now, one for the back-off both retries share.
            self.assertEqual(
                sorted(triggers.mapped("call_at")),
                [fields.Datetime.now(), fields.Datetime.now() + timedelta(seconds=30)],
            )

    def test_link_expiry_keeps_its_own_columns(self):
        invoice = self._invoice(60.0)
        link = self.env["paycrm.link"].create(
            {
                "move_id": invoice.id,
                "gateway_id": self.demo_gateway.id,
                "currency_id": invoice.currency_id.id,
                "amount": 60.0,
                "amount_minor": 6000,
                "state": "closing",
            }
        )
        tries = const.LINK_EXPIRE_MAX_TRIES
        for _n in range(tries - 1):
            self.assertTrue(link._paycrm_queue_retry("HTTP 500"))
        self.assertEqual((link.state, link.expire_tries), ("closing", tries - 1))
        self.assertFalse(link._paycrm_queue_retry("HTTP 500"))
        self.assertEqual(
            (link.state, link.expire_tries, link.last_error),
            ("expired", tries, "HTTP 500"),
        )


@tagged("post_install", "-at_install")
class TestQueueClaimSkipsLocked(TransactionCase):
    """Two workers claim from one queue at once, on committed rows (the test
    transaction cannot hold a row lock another connection sees): the second
    gets the rows the first does not hold, without waiting for it."""

    def _env(self):
        return api.Environment(self.registry.cursor(), SUPERUSER_ID, {})

    def setUp(self):
        super().setUp()
        env = self._env()
        with env.cr:
            company = env.ref("base.main_company")
            policy = company.paycrm_reminder_policy_id
            partner = env["res.partner"].create({"name": "Queue claim"})
            invoices = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "company_id": company.id,
                            "partner_id": partner.id,
                            "invoice_line_ids": [
                                Command.create(
                                    {"name": "S", "price_unit": 10.0, "tax_ids": []}
                                )
                            ],
                        }
                        for _n in range(3)
                    ]
                )
            )
            invoices.action_post()
            sms = env["sms.sms"].create(
                [{"number": "+3212345678", "body": "x", "state": "error"}] * 3
            )
            logs = env["paycrm.reminder.log"].create(
                [
                    {
                        "company_id": company.id,
                        "invoice_id": invoice.id,
                        "stage_id": policy.stage_ids[0].id,
                        "partner_id": partner.id,
                        "sms_id": one.id,
                        "result": "queued",
                    }
                    for invoice, one in zip(invoices, sms, strict=True)
                ]
            )
            self.rows = (partner.id, invoices.ids, sms.ids, logs.ids)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        partner_id, invoice_ids, sms_ids, log_ids = self.rows
        env = self._env()
        with env.cr:
            env["paycrm.reminder.log"].browse(log_ids).unlink()
            env["sms.sms"].browse(sms_ids).unlink()
            invoices = env["account.move"].browse(invoice_ids)
            invoices.button_draft()
            invoices.with_context(force_delete=True).unlink()
            env["res.partner"].browse(partner_id).unlink()

    def test_second_worker_skips_the_rows_the_first_holds(self):
        log_ids = self.rows[3]
        mine = [("id", "in", log_ids)]
        first, second = self._env(), self._env()
        try:
            # Would wait for the first worker's locks instead of skipping.
            second.cr.execute("SET lock_timeout = '2s'")
            held = first["paycrm.reminder.log"]._paycrm_queue_claim(2, domain=mine)
            self.assertEqual(held.ids, log_ids[:2])
            left = second["paycrm.reminder.log"]._paycrm_queue_claim(10, domain=mine)
            self.assertEqual(left.ids, log_ids[2:])
        finally:
            for env in (first, second):
                env.cr.rollback()
                env.cr.close()
