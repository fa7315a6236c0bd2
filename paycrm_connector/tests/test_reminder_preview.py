"""Preview shows what Run now then does; Run now says what it did."""

from freezegun import freeze_time

from odoo.tests import tagged

from .reminder_common import ReminderCommon


@tagged("post_install", "-at_install")
class TestReminderPreviewRunNow(ReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.texter = Partner.create(
            {
                "name": "Texter",
                "mobile": "+32 470 99 88 77",
                "country_id": cls.env.ref("base.be").id,
                "paycrm_reminder_channel": "sms",
            }
        )
        cls.no_mobile = Partner.create(
            {
                "name": "No Mobile",
                "email": "nomobile@example.com",
                "paycrm_reminder_channel": "sms",
            }
        )
        cls.held = Partner.create(
            {"name": "Held", "email": "held@example.com", "paycrm_reminder_hold": True}
        )
        cls.firm = Partner.create({"name": "Firm Ltd", "is_company": True})
        cls.accountant = Partner.create(
            {
                "name": "Accountant",
                "parent_id": cls.firm.id,
                "email": "accounts@firm.example",
            }
        )

    def _scenario(self):
        # Ada: one invoice at +7, one at -3: one message, each logged at its stage.
        self.late = self._invoice_due("2025-03-03")
        self.soon = self._invoice_due("2025-03-13")
        self.texted = self._invoice_due("2025-03-03", partner=self.texter)
        self.fallback = self._invoice_due("2025-03-10", partner=self.no_mobile)
        self.held_inv = self._invoice_due("2025-03-03", partner=self.held)
        self.firm_inv = self._invoice_due("2025-02-20", partner=self.accountant)
        self.promised = self._invoice_due("2025-03-01")
        self.promised.paycrm_promise_date = "2025-03-12"

    def test_preview_is_what_run_now_does(self):
        self._scenario()
        with freeze_time("2025-03-10 12:00:00"):
            action = self.policy.action_paycrm_preview()
        preview = self.env["paycrm.reminder.preview"].browse(action["res_id"])
        planned = preview.line_ids.filtered(lambda ln: not ln.skip_reason)
        self.assertEqual(
            {line.invoice_id.name for line in preview.line_ids},
            {
                inv.name
                for inv in (
                    self.late,
                    self.soon,
                    self.texted,
                    self.fallback,
                    self.held_inv,
                    self.firm_inv,
                    self.promised,
                )
            },
            "one line per invoice, with its full number",
        )
        with self.mockSMSGateway(), freeze_time("2025-03-10 12:00:00"):
            result = self.policy.action_paycrm_run_now()
        logs = self._logs(planned.invoice_id)
        self.assertEqual(
            {(ln.partner_id, ln.invoice_id, ln.stage_id, ln.channel) for ln in planned},
            {(lg.partner_id, lg.invoice_id, lg.stage_id, lg.channel) for lg in logs},
        )
        # Ada's two invoices at their own stages, in one message.
        by_invoice = {line.invoice_id: line for line in planned}
        self.assertEqual(by_invoice[self.late].stage_id, self.stages[7])
        self.assertEqual(by_invoice[self.soon].stage_id, self.stages[-3])
        self.assertEqual(by_invoice[self.soon].message_stage_id, self.stages[7])
        self.assertEqual(by_invoice[self.texted].channel, "sms")
        self.assertEqual(by_invoice[self.fallback].channel, "email")
        self.assertIn("No valid mobile", by_invoice[self.fallback].note)
        self.assertEqual(by_invoice[self.firm_inv].due_status, "18 days late")
        # Same recipients: the contact on the invoice, by the planned channel.
        for line in planned:
            log = self._logs(line.invoice_id)
            message = log.mail_message_id
            self.assertEqual(message.partner_ids, line.recipient_id)
            if line.channel == "sms":
                self.assertEqual(log.sms_id.partner_id, line.recipient_id)
            else:
                self.assertEqual(log.mail_id.recipient_ids, line.recipient_id)
        self.assertEqual(by_invoice[self.firm_inv].recipient_id, self.accountant)
        self.assertEqual(by_invoice[self.firm_inv].partner_id, self.firm)
        # Skipped in the preview, not logged by the run.
        skipped = preview.line_ids - planned
        self.assertEqual(
            {(ln.invoice_id, ln.skip_reason) for ln in skipped},
            {
                (self.held_inv, "Customer on hold"),
                (self.promised, "Promise to pay by 2025-03-12"),
            },
        )
        self.assertFalse(self._logs(skipped.invoice_id))
        # Run now says what it did.
        params = result["params"]
        self.assertEqual(params["type"], "success")
        self.assertIn("4 customers reminded: 3 by email, 1 by SMS.", params["message"])
        self.assertIn(
            "Invoices skipped: Customer on hold (1); Promise to pay by 2025-03-12 (1).",
            params["message"],
        )
        self.assertIn("queued", params["message"])

    def test_preview_shows_labels_and_a_second_preview_is_empty(self):
        invoice = self._invoice_due("2025-03-03")
        with freeze_time("2025-03-10 12:00:00"):
            action = self.policy.action_paycrm_preview()
        line = self.env["paycrm.reminder.preview"].browse(action["res_id"]).line_ids
        self.assertEqual(line.invoice_id, invoice)
        channel_labels = dict(line._fields["channel"]._description_selection(self.env))
        self.assertEqual(channel_labels[line.channel], "Email")
        self.assertEqual(line.due_status, "7 days late")
        self.assertFalse(line.reminded)
        self._run("2025-03-10")
        with freeze_time("2025-03-10 12:00:00"):
            action = self.policy.action_paycrm_preview()
        self.assertFalse(
            self.env["paycrm.reminder.preview"].browse(action["res_id"]).line_ids
        )

    def test_weekend_preview_and_run_agree(self):
        invoice = self._invoice_due("2025-03-07")
        self.policy.skip_weekends = True
        with freeze_time("2025-03-15 12:00:00"):  # Saturday
            action = self.policy.action_paycrm_preview()
            result = self.policy.action_paycrm_run_now()
        preview = self.env["paycrm.reminder.preview"].browse(action["res_id"])
        self.assertTrue(preview.weekend)
        self.assertFalse(preview.line_ids)
        self.assertFalse(self._logs(invoice))
        self.assertIn("weekend", result["params"]["message"])

    def test_run_now_with_nothing_due(self):
        with freeze_time("2025-03-10 12:00:00"):
            result = self.policy.action_paycrm_run_now()
        self.assertEqual(result["params"]["message"], "No reminder sent.")
