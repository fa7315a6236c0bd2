"""Set-up for reminder tests: a five-stage policy like the shipped one."""

from freezegun import freeze_time

from odoo import Command, fields

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .common import PaycrmCommon


class ReminderCommon(PaycrmCommon, SMSCase, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "billing@company.example"})
        cls.company.partner_id.tz = "Europe/Brussels"
        cls.salesperson = cls._make_user(
            "paycrm_rem_sales", ["base.group_user", "account.group_account_invoice"]
        )
        ref = cls.env.ref
        stages = [
            (-3, "Heads-up", "email", "mail_template_paycrm_reminder_before", {}),
            (0, "Due today", "email", "mail_template_paycrm_reminder_due", {}),
            (7, "Overdue", "email", "mail_template_paycrm_reminder_overdue", {}),
            (14, "Firm", "both", "mail_template_paycrm_reminder_firm", {}),
            (
                30,
                "Escalate",
                "email",
                "mail_template_paycrm_reminder_firm",
                {"escalation": "salesperson"},
            ),
        ]
        cls.policy = cls.env["paycrm.reminder.policy"].create(
            {
                "name": "Test policy",
                "company_id": cls.company.id,
                "skip_weekends": False,
                "stage_ids": [
                    Command.create(
                        dict(
                            {
                                "name": name,
                                "offset_days": offset,
                                "channel": channel,
                                "mail_template_id": ref(f"paycrm_connector.{tmpl}").id,
                                "sms_body": "{company}: {invoices} {amount} late "
                                "{days_late}d. Pay: {links}",
                            },
                            **extra,
                        )
                    )
                    for offset, name, channel, tmpl, extra in stages
                ],
            }
        )
        cls.stages = {s.offset_days: s for s in cls.policy.stage_ids}
        cls.company.paycrm_reminder_policy_id = cls.policy
        cls.customer.paycrm_reminder_channel = "both"

    def _invoice_due(self, due, partner=None, amount=100.0):
        due = fields.Date.to_date(due)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.customer).id,
                "invoice_date": due,
                "invoice_date_due": due,
                "invoice_user_id": self.salesperson.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        self.assertEqual(invoice.invoice_date_due, due)
        return invoice

    def _run(self, day, **kwargs):
        # Noon UTC is the same calendar day in Brussels.
        with freeze_time(f"{day} 12:00:00"):
            return self.policy._paycrm_run(**kwargs)

    def _send_queue(self):
        """What Odoo's mail and SMS crons do next: send what a run queued,
        through a stand-in SMTP server (SMS: call inside mockSMSGateway)."""
        with self.mock_mail_gateway():
            self.env["mail.mail"].sudo().process_email_queue()
        if self.env["sms.sms"].sudo().search_count([("state", "=", "outgoing")]):
            self.env["sms.sms"].sudo()._process_queue()

    def _logs(self, invoices):
        return self.env["paycrm.reminder.log"].search(
            [("invoice_id", "in", invoices.ids)]
        )

    def _reminder_mails(self, partner=None):
        partner = partner or self.customer
        return self.env["mail.mail"].search(
            [
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "=", partner.id),
            ]
        )
