"""What a reminder says matches what was sent before and each invoice's state."""

from odoo.tests import tagged

from .reminder_common import ReminderCommon

FOLLOW_UP = "Despite our previous reminders"


@tagged("post_install", "-at_install")
class TestReminderWording(ReminderCommon):
    def _body(self, partner=None):
        mail = self._reminder_mails(partner).sorted("id")[-1:]
        self.assertEqual(len(mail), 1)
        return mail.body_html, mail.mail_message_id.subject

    def test_first_reminder_is_not_a_follow_up(self):
        self._invoice_due("2025-03-03")
        self._run("2025-03-17")  # first ever reminder, at the firm stage
        body, _subject = self._body()
        self.assertNotIn(FOLLOW_UP, body)
        self.assertNotIn("already reminded", body)
        self.assertIn(
            "According to our records, the invoice below is past its due date", body
        )
        self.assertIn("14 days late", body)

    def test_follow_up_after_a_sent_reminder(self):
        self._invoice_due("2025-03-03")
        self._run("2025-03-10")
        self._send_queue()
        self.assertNotIn(FOLLOW_UP, self._body()[0])
        with self.mockSMSGateway():
            self._run("2025-03-17")
        body, _subject = self._body()
        self.assertIn(f"{FOLLOW_UP}, the invoice below is still unpaid.", body)

    def test_a_reminder_that_never_left_is_not_a_previous_one(self):
        invoice = self._invoice_due("2025-03-03")
        self._run("2025-03-10")  # queued, never sent by the mail queue
        self.assertEqual(self._logs(invoice).result, "queued")
        with self.mockSMSGateway():
            self._run("2025-03-17")
        self.assertNotIn(FOLLOW_UP, self._body()[0])

    def test_some_invoices_reminded_before(self):
        self._invoice_due("2025-03-03")
        self._run("2025-03-10")
        self._send_queue()
        self._invoice_due("2025-03-01")  # a new invoice, 16 days late on the 17th
        with self.mockSMSGateway():
            self._run("2025-03-17")
        body, _subject = self._body()
        self.assertNotIn(FOLLOW_UP, body)
        self.assertIn("We have already reminded you of some of these invoices.", body)

    def test_late_invoice_in_due_today_stage_is_not_due_today(self):
        """An invoice 5 days late whose first reminder is the due-today stage."""
        invoice = self._invoice_due("2025-03-05")
        self._run("2025-03-10")
        self.assertEqual(self._logs(invoice).stage_id, self.stages[0])
        body, subject = self._body()
        self.assertIn("5 days late", body)
        self.assertIn("the invoice below is past its due date", body)
        self.assertNotIn("due today", body.lower())
        self.assertNotIn("due today", subject.lower())

    def test_due_today(self):
        self._invoice_due("2025-03-10")
        self._run("2025-03-10")
        body, _subject = self._body()
        self.assertIn("The invoice below is due today.", body)
        self.assertIn("Due today", body)
        self.assertNotIn("late", body)

    def test_not_due_yet(self):
        self._invoice_due("2025-03-13")
        self._run("2025-03-10")
        body, _subject = self._body()
        self.assertIn("the invoice below falls due on the date shown", body)
        self.assertIn("Due in 3 days", body)
        self.assertNotIn("late", body)
        self.assertNotIn("due today", body.lower())

    def test_mixed_states_in_one_message(self):
        late = self._invoice_due("2025-03-03")
        soon = self._invoice_due("2025-03-11")
        self._run("2025-03-10")
        body, _subject = self._body()
        self.assertIn(late.name, body)
        self.assertIn(soon.name, body)
        self.assertIn("some of the invoices below are past their due date", body)
        self.assertIn("7 days late", body)
        self.assertIn("Due tomorrow", body)

    def test_pay_button_is_the_stable_url_even_without_a_token_yet(self):
        """Invoices posted before the addon have no access token: the reminder
        gives them one and shows their stable pay URL."""
        invoice = self._invoice_due("2025-03-03")
        self.env.cr.execute(
            "UPDATE account_move SET access_token = NULL WHERE id = %s", [invoice.id]
        )
        invoice.invalidate_recordset(["access_token"])
        self._run("2025-03-10")
        self.assertTrue(invoice.access_token)
        body, _subject = self._body()
        self.assertIn(
            f'href="{self.env["paycrm.link.url"]._paycrm_pay_url(invoice)}"', body
        )
        self.assertIn("Pay now", body)

    def test_no_pay_button_without_a_gateway_to_pay(self):
        invoice = self._invoice_due("2025-03-03")
        (self.demo_gateway | self.stripe_gateway).write({"state": "disabled"})
        self.assertFalse(invoice._paycrm_is_payable())
        self._run("2025-03-10")
        body, _subject = self._body()
        self.assertNotIn("/paycrm/pay/", body)
        self.assertNotIn("Pay now", body)
        self.assertIn("Please pay at your earliest convenience, or reply", body)

    def test_sms_says_the_real_due_state(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_channel = "sms"
        self.stages[0].sms_body = "{company}: {invoices} {due_status}. {links}"
        with self.mockSMSGateway():
            self._run("2025-03-05")  # due-today stage, 2 days late
        sms = self._logs(invoice).sms_id
        self.assertIn("2 days late", sms.body)
        self.assertNotIn("due today", sms.body)

    def test_template_preview_outside_a_run(self):
        invoice = self._invoice_due("2025-03-03")
        template = self.stages[14].mail_template_id
        body = template._render_field("body_html", invoice.ids)[invoice.id]
        self.assertIn(invoice.name, body)
        self.assertIn(self.env["paycrm.link.url"]._paycrm_pay_url(invoice), body)
        self.assertNotIn(FOLLOW_UP, body)

    def test_batch_render_is_odoos_render(self):
        """A run renders a batch's bodies in one go: each customer's body is
        what Odoo's one-record render gives, in the customer's language, and
        what one customer's template sets never reaches the next one."""
        self.env["res.lang"]._activate_lang("fr_FR")
        french = self.env["res.partner"].create(
            {"name": "Chloé", "email": "chloe@example.com", "lang": "fr_FR"}
        )
        invoices = (
            self._invoice_due("2025-03-03", amount=200)
            | self._invoice_due("2025-03-04", amount=100)
            | self._invoice_due("2025-03-05", partner=french, amount=300)
        )
        shipped = self.stages[7].mail_template_id
        leaky = shipped.copy(
            {
                "body_html": '<div><t t-if="object.amount_total &gt; 150">'
                '<t t-set="big" t-value="object.name"/></t>'
                '<p>Big: <t t-out="big"/></p><p t-out="object.name"/></div>'
            }
        )
        dispatch = self.env["paycrm.reminder.dispatch"]
        for template in (shipped, leaky):
            batch = dispatch._paycrm_render_bodies(template, invoices.ids, {})
            one_by_one = {
                res_id: template._render_field(
                    "body_html", [res_id], compute_lang=True, add_context={}
                )[res_id]
                for res_id in invoices.ids
            }
            self.assertEqual(batch, one_by_one)
        self.assertIn(f"Big: {invoices[0].name}", batch[invoices[0].id])
        self.assertNotIn(invoices[0].name, batch[invoices[1].id])
