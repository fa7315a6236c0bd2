from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .reminder_common import ReminderCommon


@tagged("post_install", "-at_install")
class TestReminderRun(ReminderCommon):
    def test_time_travel_through_every_stage(self):
        invoice = self._invoice_due("2025-03-14")
        sent_on = {}
        with self.mockSMSGateway():
            for day in range(5, 32):
                date = f"2025-03-{day:02d}" if day <= 31 else None
                stats = self._run(date)
                if stats["sent"]:
                    sent_on[date] = (
                        self._logs(invoice).sorted("id")[-1].stage_id.offset_days
                    )
            stats = self._run("2025-04-13")
            sent_on["2025-04-13"] = (
                self._logs(invoice).sorted("id")[-1].stage_id.offset_days
            )
        self.assertEqual(
            sent_on,
            {
                "2025-03-11": -3,
                "2025-03-14": 0,
                "2025-03-21": 7,
                "2025-03-28": 14,
                "2025-04-13": 30,
            },
        )
        logs = self._logs(invoice)
        self.assertEqual(len(logs), 5)
        # Queued until Odoo's mail queue sends them (see the end).
        self.assertEqual(set(logs.mapped("result")), {"queued"})
        self.assertEqual(len(self._reminder_mails()), 5)
        self.assertEqual(invoice.paycrm_reminder_stage_id, self.stages[30])
        # Firm stage: email and SMS, the SMS carrying the pay link.
        firm = logs.filtered(lambda log: log.stage_id.offset_days == 14)
        self.assertEqual(firm.channel, "both")
        self.assertIn(invoice.paycrm_link_url, firm.sms_id.body)
        self.assertEqual(firm.sms_id.number, self.customer.paycrm_mobile_e164)
        # Escalation: an activity for the salesperson on the invoice.
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        # Chatter: a note per reminder on the invoice, the email on the customer.
        notes = invoice.message_ids.filtered(
            lambda m: "Payment reminder" in (m.body or "")
        )
        self.assertEqual(len(notes), 5)
        overdue = logs.filtered(lambda log: log.stage_id.offset_days == 7)
        mail = self._reminder_mails().filtered(
            lambda m: m.mail_message_id == overdue.mail_message_id
        )
        self.assertIn(invoice.name, mail.body_html)
        self.assertIn(invoice.paycrm_link_url, mail.body_html)
        self.assertEqual(mail.recipient_ids, self.customer)
        with self.mockSMSGateway():
            self._send_queue()
        self.assertEqual(set(logs.mapped("result")), {"sent"})

    def test_double_run_sends_once(self):
        invoice = self._invoice_due("2025-03-03")
        first = self._run("2025-03-10")
        second = self._run("2025-03-10")
        self.assertEqual(first["sent"], 1)
        self.assertEqual(second["sent"], 0)
        self.assertEqual(len(self._logs(invoice)), 1)
        self.assertEqual(len(self._reminder_mails()), 1)

    def test_late_start_sends_only_latest_stage(self):
        invoice = self._invoice_due("2025-03-03")
        self._run("2025-03-20")  # 17 days late: the firm stage, not all before it
        self.assertEqual(self._logs(invoice).stage_id, self.stages[14])
        self._run("2025-03-21")
        self.assertEqual(len(self._logs(invoice)), 1)

    def test_grouping_one_message_per_customer(self):
        late_a = self._invoice_due("2025-03-03", amount=100)
        late_b = self._invoice_due("2025-03-02", amount=50)
        soon = self._invoice_due("2025-03-13", amount=70)
        other = self.env["res.partner"].create(
            {"name": "Bob", "email": "bob@example.com"}
        )
        other_inv = self._invoice_due("2025-03-03", partner=other)
        stats = self._run("2025-03-10")
        self.assertEqual(stats["sent"], 2)
        mail = self._reminder_mails()
        self.assertEqual(len(mail), 1)
        for invoice in late_a | late_b | soon:
            self.assertIn(invoice.name, mail.body_html)
            self.assertIn(invoice.paycrm_link_url, mail.body_html)
        self.assertNotIn(other_inv.name, mail.body_html)
        # The most advanced stage picks the template; each invoice logs its own.
        self.assertIn("overdue", mail.mail_message_id.subject)
        self.assertEqual(self._logs(late_a | late_b).stage_id, self.stages[7])
        self.assertEqual(self._logs(soon).stage_id, self.stages[-3])
        self.assertEqual(len(self._reminder_mails(other)), 1)

    def test_no_pay_link_when_stage_says_so(self):
        invoice = self._invoice_due("2025-03-03")
        self.stages[7].include_pay_link = False
        self._run("2025-03-10")
        self.assertNotIn(invoice.paycrm_link_url, self._reminder_mails().body_html)

    def test_invoice_without_due_date_uses_invoice_date(self):
        invoice = self._invoice_due("2025-03-03")
        self.env.cr.execute(
            "UPDATE account_move SET invoice_date_due = NULL WHERE id = %s",
            [invoice.id],
        )
        invoice.invalidate_recordset(["invoice_date_due"])
        self.assertFalse(invoice.invoice_date_due)
        self._run("2025-03-10")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[7])

    def test_weekend_skipped_when_policy_says_so(self):
        invoice = self._invoice_due("2025-03-07")
        self.policy.skip_weekends = True
        self._run("2025-03-15")  # Saturday, +8
        self.assertFalse(self._logs(invoice))
        self._run("2025-03-17")  # Monday catches up
        self.assertEqual(self._logs(invoice).stage_id, self.stages[7])

    def test_runs_in_company_time_zone(self):
        invoice = self._invoice_due("2025-03-14")
        self.company.partner_id.tz = "Pacific/Auckland"
        # 13:00 UTC on the 13th is already the 14th in Auckland: due today.
        with freeze_time("2025-03-13 13:00:00"):
            self.policy._paycrm_run()
        self.assertEqual(self._logs(invoice).stage_id, self.stages[0])

    def test_duplicate_offset_is_refused(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.env.cr.savepoint(),
        ):
            self.policy.write(
                {
                    "stage_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "Again",
                                "offset_days": 7,
                                "channel": "email",
                                "mail_template_id": self.stages[7].mail_template_id.id,
                            },
                        )
                    ]
                }
            )

    def test_preview_sends_nothing(self):
        invoice = self._invoice_due("2025-03-03")
        held = self.env["res.partner"].create(
            {"name": "Held", "email": "held@example.com", "paycrm_reminder_hold": True}
        )
        self._invoice_due("2025-03-03", partner=held)
        with freeze_time("2025-03-10 12:00:00"):
            action = self.policy.action_paycrm_preview()
        preview = self.env["paycrm.reminder.preview"].browse(action["res_id"])
        line = preview.line_ids.filtered(lambda ln: ln.partner_id == self.customer)
        self.assertEqual(line.invoice_id, invoice)
        self.assertEqual(line.stage_id, self.stages[7])
        self.assertEqual(line.channel, "email")
        held_line = preview.line_ids.filtered(lambda ln: ln.partner_id == held)
        self.assertEqual(held_line.skip_reason, "Customer on hold")
        self.assertFalse(self._logs(invoice))
        self.assertFalse(self._reminder_mails())

    def test_send_reminder_now_server_action(self):
        invoice = self._invoice_due("2025-04-30")  # not due any stage yet
        action = self.env.ref("paycrm_connector.action_paycrm_send_reminder_now")
        with freeze_time("2025-03-10 12:00:00"):
            result = action.with_context(
                active_model="account.move",
                active_ids=invoice.ids,
                active_id=invoice.id,
            ).run()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[-3])
        with freeze_time("2025-03-10 12:00:00"):
            invoice.action_paycrm_send_reminder_now()
        self.assertEqual(len(self._reminder_mails()), 1)

    def test_payment_within_window_credits_stage(self):
        invoice = self._invoice_due("2025-03-03")
        self._run("2025-03-10")
        self._send_queue()  # only a reminder that left can be credited
        with freeze_time("2025-03-13 12:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"payment_date": "2025-03-13"})._create_payments()
        credited = self.env["paycrm.reminder.log"]._paycrm_credit_payments(invoice)
        self.assertEqual(credited.stage_id, self.stages[7])
        self.assertTrue(credited.paid_within_window)
        self.assertEqual(str(credited.paid_date), "2025-03-13")
        # Paid: no further stage, and crediting again changes nothing.
        self._run("2025-03-17")
        self.assertEqual(len(self._logs(invoice)), 1)
        self.assertFalse(
            self.env["paycrm.reminder.log"]._paycrm_credit_payments(invoice)
        )

    def test_late_payment_is_not_credited(self):
        invoice = self._invoice_due("2025-03-03")
        self._run("2025-03-10")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": "2025-04-20"})._create_payments()
        self.assertFalse(
            self.env["paycrm.reminder.log"]._paycrm_credit_payments(invoice)
        )
        self.assertFalse(self._logs(invoice).paid_within_window)
