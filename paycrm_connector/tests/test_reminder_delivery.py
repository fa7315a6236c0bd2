"""The reminder log follows what became of the mail: queued, sent, failed, bounced."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import MailDeliveryException

from .reminder_common import ReminderCommon


@tagged("post_install", "-at_install")
class TestReminderDelivery(ReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.planner = cls.env["paycrm.reminder.planner"]

    def _remind(self):
        invoice = self._invoice_due("2025-03-03")
        self._run("2025-03-10")
        log = self._logs(invoice)
        self.assertEqual(log.result, "queued")
        return invoice, log

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_mail_that_fails_to_send_is_logged_failed(self):
        invoice, log = self._remind()
        mail = log.mail_id

        def refuse(*args, **kwargs):
            raise MailDeliveryException("Connection refused by smtp.example.com")

        with self.mock_mail_gateway():
            self.send_email_mocked.side_effect = refuse
            mail.send(raise_exception=False)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(log.result, "failed")
        self.assertIn("Connection refused", log.error)
        # The customer got nothing: no stage reached, no previous reminder.
        self.assertFalse(invoice.paycrm_reminder_stage_id)
        # Not counted as a reminder the customer got.
        self.assertFalse(self.planner._paycrm_reminded_invoice_ids(invoice))
        # The next run does not send the stage again behind Odoo's back ...
        self._run("2025-03-11")
        self.assertEqual(len(self._logs(invoice)), 1)
        self.assertEqual(len(self._reminder_mails()), 1)
        # ... Odoo's Retry on the failed mail does, and the log follows it.
        with self.mock_mail_gateway():
            mail.action_retry()
            mail.send()
        self.assertEqual(log.result, "sent")
        self.assertFalse(log.error)
        self.assertEqual(invoice.paycrm_reminder_stage_id, self.stages[7])

    def test_mail_sent_then_bounced(self):
        invoice, log = self._remind()
        message = log.mail_message_id
        self._send_queue()
        self.assertEqual(log.result, "sent")
        self.assertEqual(
            self.planner._paycrm_reminded_invoice_ids(invoice), set(invoice.ids)
        )
        # The customer's mail server answers with a bounce, routed by Odoo.
        self.env["mail.thread"]._routing_handle_bounce(
            None,
            {
                "bounced_email": "ada@example.com",
                "bounced_partner": self.customer,
                "bounced_msg_ids": [message.message_id],
                "bounced_message": message,
                "body": "550 5.1.1 mailbox unavailable",
                "email_from": "mailer-daemon@example.com",
                "to": "bounce@example.com",
                "message_id": "<bounce-1@example.com>",
            },
        )
        self.assertEqual(log.result, "bounced")
        self.assertIn("mailbox unavailable", log.error)
        self.assertFalse(self.planner._paycrm_reminded_invoice_ids(invoice))

    def test_sms_reminder_follows_the_provider(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_channel = "sms"
        with self.mockSMSGateway():
            self._run("2025-03-10")
            log = self._logs(invoice)
            self.assertEqual(log.result, "queued")
            self.env["sms.sms"].sudo()._process_queue()
        self.assertEqual(log.result, "sent")

    def test_sms_refused_by_the_provider_is_failed(self):
        invoice = self._invoice_due("2025-03-03")
        self.customer.paycrm_reminder_channel = "sms"
        with self.mockSMSGateway(sim_error="wrong_number_format"):
            self._run("2025-03-10")
            self.env["sms.sms"].sudo()._process_queue()
        log = self._logs(invoice)
        self.assertEqual(log.result, "failed")
        self.assertTrue(log.error)
