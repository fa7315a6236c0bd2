from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .reminder_common import ReminderCommon


@tagged("post_install", "-at_install")
class TestReminderSkips(ReminderCommon):
    def test_hold_then_release(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_hold = True
        stats = self._run("2025-03-10")
        self.assertEqual(stats["skipped"], 1)
        self.assertFalse(self._logs(invoice))
        self.customer.paycrm_reminder_hold = False
        self._run("2025-03-11")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[7])

    def test_stage_puts_customer_on_hold(self):
        invoice = self._invoice_due("2025-03-03")
        self.stages[7].hold_customer = True
        self._run("2025-03-10")
        self.assertTrue(self.customer.paycrm_reminder_hold)
        self._run("2025-03-17")
        self.assertEqual(len(self._logs(invoice)), 1)

    def test_opt_out(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_opt_out = True
        self._run("2025-03-10")
        self.assertFalse(self._logs(invoice))
        self.assertFalse(self._reminder_mails())
        self.assertFalse(self.customer.activity_ids)

    def test_promise_to_pay_pauses_until_date_plus_grace(self):
        invoice = self._invoice_due("2025-03-03")
        with freeze_time("2025-03-05 12:00:00"):
            wizard = (
                self.env["paycrm.promise.wizard"]
                .with_context(**invoice.action_paycrm_promise()["context"])
                .create({"promise_date": "2025-03-12", "amount": 100.0})
            )
            wizard.action_confirm()
        self.assertEqual(str(invoice.paycrm_promise_date), "2025-03-12")
        self.assertIn("Promise to pay", invoice.message_ids[0].body)
        for day in ("2025-03-10", "2025-03-15"):  # grace 3 days: paused to the 15th
            self._run(day)
            self.assertFalse(self._logs(invoice), day)
        self._run("2025-03-16")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[7])

    def test_promise_from_partner_covers_open_invoices(self):
        first = self._invoice_due("2025-03-03")
        second = self._invoice_due("2025-03-04")
        action = self.customer.action_paycrm_promise()
        self.assertEqual(
            set(action["context"]["default_invoice_ids"]), {first.id, second.id}
        )

    def test_paid_and_cancelled_are_skipped(self):
        paid = self._invoice_due("2025-03-03")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        cancelled = self._invoice_due("2025-03-03")
        cancelled.button_cancel()
        self._run("2025-03-10")
        self.assertFalse(self._logs(paid | cancelled))

    def test_below_stage_minimum(self):
        small = self._invoice_due("2025-03-03", amount=5.0)
        self.stages[7].min_amount = 10.0
        self._run("2025-03-10")
        self.assertFalse(self._logs(small))
        self._run("2025-03-17")  # the firm stage has no minimum
        self.assertEqual(self._logs(small).stage_id, self.stages[14])

    def test_sms_without_valid_mobile_falls_back_to_email(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.write({"mobile": "12", "phone": False})
        self.assertFalse(self.customer.paycrm_mobile_valid)
        with self.mockSMSGateway():
            self._run("2025-03-17")
        log = self._logs(invoice)
        self.assertEqual(log.result, "queued")
        mails = self._reminder_mails()
        self._send_queue()
        self.assertEqual(log.result, "fallback")
        self.assertEqual(log.channel, "email")
        self.assertIn("No valid mobile", log.note)
        self.assertFalse(self._new_sms)
        self.assertEqual(len(mails), 1)

    def test_sms_only_customer(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_channel = "sms"
        with self.mockSMSGateway():
            self._run("2025-03-10")  # email-only stage: the customer's channel wins
            self.env["sms.sms"].sudo()._process_queue()
        self.assertFalse(self._reminder_mails())
        self.assertSMSIapSent(
            [self.customer.paycrm_mobile_e164], content=invoice.paycrm_link_url
        )

    def test_no_email_no_mobile_warns_salesperson_once(self):
        ghost = self.env["res.partner"].create({"name": "Ghost"})
        invoice = self._invoice_due("2025-03-03", partner=ghost)
        self._run("2025-03-10")
        self._run("2025-03-17")
        self.assertFalse(self._logs(invoice))
        activity = ghost.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertEqual(activity.summary, "Cannot send payment reminders")
        # Adding an email lifts the flag; the next run reminds.
        ghost.email = "ghost@example.com"
        self.assertFalse(ghost.paycrm_cannot_remind_noted)
        self._run("2025-03-18")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[14])

    def test_template_failure_fails_that_customer_only(self):
        broken = self.stages[7].mail_template_id.copy(
            {"body_html": '<p t-out="object.partner_id.ref.upper()"/>'}
        )
        self.stages[7].mail_template_id = broken
        self.customer.ref = "ada"
        bob = self.env["res.partner"].create(
            {"name": "Bob", "email": "bob@example.com"}
        )
        ok_invoice = self._invoice_due("2025-03-03")
        bad_invoice = self._invoice_due("2025-03-03", partner=bob)
        stats = self._run("2025-03-10")
        self.assertEqual((stats["sent"], stats["failed"]), (1, 1))
        self.assertEqual(self._logs(ok_invoice).result, "queued")
        bad_log = self._logs(bad_invoice)
        self.assertEqual(bad_log.result, "failed")
        self.assertIn("failed to render", bad_log.error)
        self.assertFalse(self._reminder_mails(bob))
        self.assertFalse(bad_invoice.paycrm_reminder_stage_id)
        failed = self.env["paycrm.reminder.log"].search([("result", "=", "failed")])
        self.assertIn(bad_log, failed)
        # Once the template is fixed, the next run retries the failed customer.
        self.stages[7].mail_template_id = self.env.ref(
            "paycrm_connector.mail_template_paycrm_reminder_overdue"
        )
        self._run("2025-03-11")
        self.assertEqual(bad_log.result, "queued")
        self.assertEqual(len(self._reminder_mails(bob)), 1)
        self.assertEqual(len(self._reminder_mails()), 1)

    def test_sms_provider_failure_is_retried_and_email_still_sent(self):
        invoice = self._invoice_due("2025-03-03")
        with self.mockSMSGateway(sim_error="server_error"):
            self._run("2025-03-17")
            self.env["sms.sms"].sudo()._process_queue()
        log = self._logs(invoice)
        self.assertEqual(log.sms_state, "error")
        self.assertEqual(len(self._reminder_mails()), 1)
        failed = self.env["paycrm.reminder.log"].search(
            [
                ("id", "=", log.id),
                "|",
                ("result", "=", "failed"),
                ("sms_state", "=", "error"),
            ]
        )
        self.assertEqual(failed, log)
        with self.mockSMSGateway():
            self._run("2025-03-18")
            self.assertIn("queued again", log.error)
            self.assertEqual(log.sms_state, "outgoing")
            self.env["sms.sms"].sudo()._process_queue()
        self.assertSMSIapSent(
            [self.customer.paycrm_mobile_e164], content=invoice.paycrm_link_url
        )
        self.assertIn(log.sms_state, ("pending", "sent"))
        self.assertEqual(len(self._reminder_mails()), 1)  # the email was not repeated

    def test_skip_reason_is_an_override_point(self):
        invoice = self._invoice_due("2025-03-03")
        today = fields.Date.to_date("2025-03-10")
        planner = self.env["paycrm.reminder.planner"]
        self.assertFalse(planner._paycrm_skip_reason(invoice, today, self.policy))
        invoice.paycrm_promise_date = today
        self.assertIn(
            "Promise", planner._paycrm_skip_reason(invoice, today, self.policy)
        )

    def test_disputed_invoice_is_not_chased(self):
        invoice = self._invoice_due("2025-03-03")
        invoice.paycrm_disputed = True
        self._run("2025-03-10")
        self.assertFalse(self._logs(invoice))
        invoice.paycrm_disputed = False  # dispute won: chasing resumes
        self._run("2025-03-11")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[7])
