"""Auto-pay: due invoices of auto-pay customers charged on their saved
method, once per attempt, against the Stripe stand-in and the demo gateway.

Time moves by writing dates (a declined attempt's retry date, invoices' due
dates) or with freezegun for the demo gateway (no HTTP involved).
"""

import json
from datetime import date, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.sms.tests.common import SMSCase

from .common import GROUP_USER, PaycrmCommon
from .stripe_standin import signed_headers

GROUP_AUTOPAY = "paycrm_connector.group_paycrm_autopay"


@tagged("post_install", "-at_install")
class TestAutopay(PaycrmCommon, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_ref = cls.customer._paycrm_ensure_customer(cls.stripe_gateway)
        cls.method_model = cls.env["paycrm.payment.method"]
        cls.autopay = cls.env["paycrm.autopay"]
        cls.attempts = cls.env["paycrm.autopay.attempt"]
        cls.eur = cls.setup_other_currency("EUR")

    # -- helpers -------------------------------------------------------------

    def _method(self, method_ref, gateway=None, partner=None, **vals):
        gateway = gateway or self.stripe_gateway
        return self.method_model.create(
            {
                "partner_id": (partner or self.customer).id,
                "gateway_id": gateway.id,
                "method_ref": method_ref,
                "customer_ref": self.customer_ref
                if gateway == self.stripe_gateway
                else f"demo_cus_{self.customer.id}",
                "method_type": vals.pop("method_type", "card"),
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2040,
                **vals,
            }
        )

    def _autopay_on(self, method, partner=None):
        (partner or self.customer).write(
            {"paycrm_autopay": True, "paycrm_autopay_method_id": method.id}
        )
        return method

    def _charges(self):
        """The off-session charges the stand-in received."""
        return [
            req
            for req in self.standin.requests
            if req.method == "POST" and req.path == "/v1/payment_intents"
        ]

    def _standin_events(self, pi_id):
        return sorted(
            (
                event
                for event in self.standin.objects["event"].values()
                if event["data"]["object"].get("id") == pi_id
            ),
            key=lambda event: event["id"],
        )

    def _deliver(self, event, gateway=None):
        gateway = gateway or self.stripe_gateway
        body = json.dumps(event).encode()
        self.env["paycrm.event"]._paycrm_intake(
            gateway, body, signed_headers(body, gateway.webhook_secret)
        )
        self._process()

    def _process(self):
        events = self.env["paycrm.event"]
        for _round in range(5):
            if not events._paycrm_process_batch(500, force=True):
                break
        self.env.invalidate_all()

    def _run(self, today=None):
        run = self.autopay._paycrm_autopay_run(today=today)
        self.env.invalidate_all()
        return run

    def _invoice_attempts(self, invoice):
        return self.attempts.search([("invoice_id", "=", invoice.id)], order="attempt")

    def _chatter(self, invoice):
        return " ".join(invoice.message_ids.mapped("body"))

    # -- Stripe: each answer ----------------------------------------------------

    def test_succeeded_is_charged_once_and_booked_by_its_webhook(self):
        self._autopay_on(self._method("pm_card_visa"))
        invoice = self._invoice(120.0)
        run = self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(run.claimed, 1)
        self.assertEqual(len(attempt), 1)
        self.assertEqual(attempt.state, "succeeded")
        self.assertTrue(attempt.payment_ref.startswith("pi_"))
        charges = self._charges()
        self.assertEqual(len(charges), 1)
        key = f"paycrm-autopay-{self.env.cr.dbname}-{invoice.id}-1"
        self.assertEqual(charges[0].headers.get("Idempotency-Key"), key)
        self.assertEqual(attempt.idempotency_key, key)
        self.assertIn("Auto-pay: ", self._chatter(invoice))
        # Nothing charged again while the webhook is on its way.
        self._run()
        self.assertEqual(len(self._charges()), 1)
        for event in self._standin_events(attempt.payment_ref):
            self._deliver(event)
        self.assertTrue(
            invoice.currency_id.is_zero(invoice.amount_residual),
            "the webhook books the payment as any other",
        )
        self.assertEqual(attempt.state, "succeeded")
        self._run()
        self.assertEqual(len(self._charges()), 1)
        self.assertEqual(len(self._invoice_attempts(invoice)), 1)

    def test_declined_is_retried_on_the_schedule_then_reminders(self):
        self.company.paycrm_autopay_retry_days = "1,3"
        self._autopay_on(self._method("pm_card_chargeDeclined"))
        invoice = self._invoice(80.0)
        planner = self.env["paycrm.reminder.planner"]
        policy = self.company.paycrm_reminder_policy_id or self.env.ref(
            "paycrm_connector.paycrm_reminder_policy_default"
        )
        today = fields.Date.context_today(self.autopay)
        self.assertTrue(planner._paycrm_skip_reason(invoice, today, policy))
        self._run()
        first = self._invoice_attempts(invoice)
        self.assertEqual(first.state, "declined")
        self.assertEqual(first.decline_code, "card_declined")
        self.assertEqual(first.next_retry, today + timedelta(days=1))
        self.assertIn("declined", self._chatter(invoice))
        # Not before its retry date.
        self._run()
        self.assertEqual(len(self._charges()), 1)
        # A day later (the retry date reached): attempt 2, then 3 days later 3.
        first.sudo().next_retry = today
        self._run()
        second = self._invoice_attempts(invoice)[-1]
        self.assertEqual((second.attempt, second.state), (2, "declined"))
        self.assertEqual(second.next_retry, today + timedelta(days=3))
        self.assertNotEqual(second.idempotency_key, first.idempotency_key)
        # Auto-pay still expected: reminders wait.
        self.assertTrue(planner._paycrm_skip_reason(invoice, today, policy))
        second.sudo().next_retry = today
        self._run()
        third = self._invoice_attempts(invoice)[-1]
        self.assertEqual((third.attempt, third.state), (3, "declined"))
        self.assertFalse(third.next_retry)
        self.assertIn("No more retries", self._chatter(invoice))
        run = self._run()
        self.assertEqual(len(self._charges()), 3)
        self.assertIn("Retries are over", run.skipped[invoice.id])
        # Back to reminders.
        self.assertFalse(planner._paycrm_skip_reason(invoice, today, policy))

    def test_authentication_required_sends_the_link_by_email_and_sms(self):
        self.customer.paycrm_reminder_channel = "both"
        self._autopay_on(self._method("pm_card_authenticationRequired"))
        invoice = self._invoice(60.0)
        with self.mockSMSGateway():
            self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(attempt.state, "action_required")
        self.assertEqual(attempt.decline_code, "authentication_required")
        mails = self.env["mail.message"].search(
            [("model", "=", "account.move"), ("res_id", "=", invoice.id)]
        )
        self.assertTrue(
            any(
                "Your bank asks you to confirm this payment" in (m.body or "")
                for m in mails
            ),
            "the link goes out by email with the bank's request",
        )
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(
            any("Your bank asks you to confirm this payment" in s.body for s in sms)
        )
        # Not charged again: the customer confirms through the link.
        self._run()
        self.assertEqual(len(self._charges()), 1)

    def test_processing_debit_waits_for_its_webhook(self):
        method = self._autopay_on(
            self._method(
                "pm_sepa_debit", method_type="sepa_debit", brand="", last4="3000"
            )
        )
        invoice = self._invoice(50.0, currency=self.eur)
        self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(attempt.state, "processing")
        self.assertEqual(attempt.method_id, method)
        for event in self._standin_events(attempt.payment_ref):
            self._deliver(event)
        self.assertEqual(attempt.state, "processing")
        self.assertFalse(invoice.currency_id.is_zero(invoice.amount_residual))
        self._run()
        self.assertEqual(len(self._charges()), 1)
        self.standin.settle_processing(attempt.payment_ref, succeeded=True)
        for event in self._standin_events(attempt.payment_ref):
            self._deliver(event)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertEqual(attempt.state, "succeeded")

    # -- faults -------------------------------------------------------------------

    def test_two_runs_at_once_insert_one_attempt(self):
        self._autopay_on(self._method("pm_card_visa"))
        invoice = self._invoice(40.0)
        today = fields.Date.context_today(self.autopay)
        # Both runs plan attempt 1 before either inserts it.
        plan_a, _reason = self.autopay._paycrm_autopay_plan(invoice, today)
        plan_b, _reason = self.autopay._paycrm_autopay_plan(invoice, today)
        self.assertEqual(plan_a, plan_b)
        claimed_a = self.autopay._paycrm_autopay_claim([plan_a])
        claimed_b = self.autopay._paycrm_autopay_claim([plan_b])
        self.assertEqual(len(claimed_a), 1)
        self.assertFalse(claimed_b, "the unique (invoice, attempt) wins the race")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.attempts.sudo().create(
                {"invoice_id": invoice.id, "attempt": 1, "state": "draft"}
            )
        self.autopay._paycrm_autopay_send_ready()
        self.autopay._paycrm_autopay_send_ready()
        self.assertEqual(len(self._charges()), 1)
        self.assertEqual(len(self._invoice_attempts(invoice)), 1)

    def test_crash_between_call_and_record_is_repaired_with_the_same_key(self):
        self._autopay_on(self._method("pm_card_visa"))
        invoice = self._invoice(30.0)
        today = fields.Date.context_today(self.autopay)
        plan, _reason = self.autopay._paycrm_autopay_plan(invoice, today)
        attempt = self.autopay._paycrm_autopay_claim([plan])
        # The first run called the gateway, then died before recording it.
        self.autopay._paycrm_autopay_send(attempt)
        attempt.sudo().write({"state": "draft", "payment_ref": False})
        first_ref = self._charges()[0].headers["Idempotency-Key"]
        replays = self.standin.idempotent_replays
        self._run()
        self.assertEqual(attempt.state, "succeeded")
        charges = self._charges()
        self.assertEqual(len(charges), 2)
        self.assertEqual(charges[1].headers["Idempotency-Key"], first_ref)
        self.assertEqual(self.standin.idempotent_replays, replays + 1)
        intents = [
            intent
            for intent in self.standin.objects["payment_intent"].values()
            if (intent.get("metadata") or {}).get("paycrm_invoice_id")
            == str(invoice.id)
        ]
        self.assertEqual(len(intents), 1, "one payment at the gateway")

    def test_gateway_timeout_is_sent_again_later_with_the_same_key(self):
        self._autopay_on(self._method("pm_card_visa"))
        invoice = self._invoice(25.0)
        self.standin.fail_next(503, path_prefix="/v1/payment_intents")
        self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(attempt.state, "sent")
        self.assertEqual(attempt.send_count, 1)
        self.assertTrue(attempt.next_send)
        attempt.sudo().next_send = fields.Datetime.now()
        self._run()
        self.assertEqual(attempt.state, "succeeded")
        keys = {req.headers["Idempotency-Key"] for req in self._charges()}
        self.assertEqual(keys, {attempt.idempotency_key})

    # -- refusals: nothing sent ---------------------------------------------------

    def test_refusals_send_nothing_to_the_gateway(self):
        self._autopay_on(self._method("pm_card_visa"))
        self.env.user.groups_id |= self.env.ref(GROUP_AUTOPAY)
        cancelled = self._invoice(10.0)
        cancelled.button_draft()
        cancelled.button_cancel()
        paid = self._invoice(11.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        disputed = self._invoice(12.0)
        disputed.paycrm_disputed = True
        promised = self._invoice(13.0)
        promised.paycrm_promise_date = date.today() + timedelta(days=5)
        in_eur = self._invoice(14.0, currency=self.eur)
        for invoice, words in (
            (cancelled, "not posted"),
            (paid, "Nothing is due"),
            (disputed, "disputed"),
            (promised, "promised"),
        ):
            with self.assertRaisesRegex(UserError, words):
                self.autopay._paycrm_autopay_charge_now(invoice)
        # A SEPA mandate takes euros only.
        sepa = self._method("pm_sepa_debit", method_type="sepa_debit")
        usd = self._invoice(15.0)
        with self.assertRaisesRegex(UserError, "EUR"):
            self.autopay._paycrm_autopay_charge_now(usd, method=sepa)
        self.customer.paycrm_reminder_hold = True
        with self.assertRaisesRegex(UserError, "on hold"):
            self.autopay._paycrm_autopay_charge_now(in_eur)
        run = self._run()
        self.assertFalse(self._charges(), "nothing reached the gateway")
        self.assertFalse(self.attempts.search([("partner_id", "=", self.customer.id)]))
        self.assertIn(disputed.id, run.skipped)
        self.assertIn(promised.id, run.skipped)

    def test_removed_method_gets_an_activity_and_the_customer_the_link(self):
        method = self._autopay_on(self._method("pm_card_visa"))
        method.active = False
        invoice = self._invoice(35.0)
        self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(attempt.state, "error")
        self.assertFalse(self._charges())
        self.assertTrue(
            invoice.activity_ids.filtered(
                lambda a: a.summary == "Auto-pay method unusable"
            )
        )
        self.assertIn(
            "could not charge your saved payment method", self._chatter(invoice)
        )
        # Once: the next run leaves it to the reminders.
        self._run()
        self.assertEqual(len(self._invoice_attempts(invoice)), 1)
        self.assertEqual(len(invoice.activity_ids), 1)

    def test_expired_card_decline_asks_for_a_new_method_without_retry(self):
        self._autopay_on(self._method("pm_card_chargeDeclinedExpiredCard"))
        invoice = self._invoice(45.0)
        self._run()
        attempt = self._invoice_attempts(invoice)
        self.assertEqual(
            (attempt.state, attempt.decline_code), ("declined", "expired_card")
        )
        self.assertFalse(attempt.next_retry)
        self.assertEqual(invoice.activity_ids.summary, "Auto-pay method unusable")
        self.assertIn(
            "could not charge your saved payment method", self._chatter(invoice)
        )
        self._run()
        self.assertEqual(len(self._charges()), 1)

    # -- the button --------------------------------------------------------------

    def test_button_confirms_method_and_amount_for_its_group_only(self):
        method = self._method("pm_card_visa")
        self.customer.paycrm_autopay_method_id = method
        invoice = self._invoice(99.0)
        clerk = self._make_internal_user("autopay_clerk", GROUP_USER)
        with self.assertRaisesRegex(UserError, "Charge saved payment methods"):
            invoice.with_user(clerk).action_paycrm_autopay_charge()
        cashier = self._make_internal_user(
            "autopay_cashier",
            GROUP_USER,
            GROUP_AUTOPAY,
            "account.group_account_invoice",
        )
        action = invoice.with_user(cashier).action_paycrm_autopay_charge()
        wizard = (
            self.env["paycrm.autopay.charge"]
            .with_user(cashier)
            .browse(action["res_id"])
        )
        self.assertIn(method.display_name, wizard.summary)
        self.assertIn("99", wizard.summary)
        self.assertFalse(wizard.refusals)
        self.assertFalse(self._charges(), "nothing charged before the confirmation")
        result = wizard.action_charge()
        self.assertEqual(result["params"]["type"], "success")
        attempt = self._invoice_attempts(invoice)
        self.assertTrue(attempt.manual)
        self.assertEqual(attempt.state, "succeeded")
        self.assertEqual(len(self._charges()), 1)
        # Charging it again while its payment is on the way: refused.
        with self.assertRaisesRegex(UserError, "Attempt 1"):
            self.autopay._paycrm_autopay_charge_now(invoice)

    def test_retry_schedule_setting_is_validated(self):
        for bad in ("3,1", "1,x", "0", "1,,3", "400"):
            with self.assertRaises(ValidationError):
                self.company.paycrm_autopay_retry_days = bad
        self.company.paycrm_autopay_retry_days = " 2, 5 ,9"
        self.company.paycrm_autopay_retry_days = ""

    # -- demo gateway and the recurring series -------------------------------------

    def test_demo_gateway_outcomes(self):
        outcomes = {}
        for ref, state in (
            ("pm_demo_1", "succeeded"),
            ("pm_demo_declined_1", "declined"),
            ("pm_demo_auth_1", "action_required"),
            ("pm_demo_debit_1", "processing"),
        ):
            partner = self.customer.copy({"name": f"Demo {ref}"})
            method = self._method(ref, gateway=self.demo_gateway, partner=partner)
            self._autopay_on(method, partner=partner)
            invoice = self._invoice(20.0, partner=partner)
            invoice.paycrm_gateway_id = self.demo_gateway
            outcomes[ref] = (invoice, state)
        self._run()
        self._process()
        for ref, (invoice, state) in outcomes.items():
            attempt = self._invoice_attempts(invoice)
            self.assertEqual(attempt.state, state, ref)
        paid = outcomes["pm_demo_1"][0]
        self.assertTrue(paid.currency_id.is_zero(paid.amount_residual))

    def test_monthly_series_is_charged_once_each(self):
        partner = self.customer.copy({"name": "Monthly Customer"})
        method = self._method("pm_demo_7", gateway=self.demo_gateway, partner=partner)
        self._autopay_on(method, partner=partner)
        series = self.env["account.move"]
        for month in (1, 2, 3):
            invoice = self.init_invoice(
                "out_invoice",
                partner=partner,
                invoice_date=date(2031, month, 1),
                amounts=[49.0],
                post=False,
            )
            invoice.write(
                {
                    "paycrm_gateway_id": self.demo_gateway.id,
                    "invoice_date_due": date(2031, month, 10),
                }
            )
            invoice.action_post()
            series |= invoice
        for month in (1, 2, 3):
            with freeze_time(f"2031-{month:02d}-10 06:00:00"):
                run = self._run()
                self._process()
            self.assertEqual(run.claimed, 1, month)
            # Run twice the same day: nothing new.
            with freeze_time(f"2031-{month:02d}-10 07:00:00"):
                self.assertEqual(self._run().claimed, 0)
        for invoice in series:
            attempts = self._invoice_attempts(invoice)
            self.assertEqual(len(attempts), 1, invoice.name)
            self.assertEqual(attempts.state, "succeeded")
            self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
