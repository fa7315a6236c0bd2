"""Sending the stable link: wizard, email, SMS, invoice email, on post, automations."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .common import PaycrmCommon

MOBILE = "+32470123456"


@tagged("post_install", "-at_install")
class TestSendPaymentLink(PaycrmCommon, MockEmail, SMSCase):
    def _wizard(self, invoices, **values):
        return (
            self.env["paycrm.link.wizard"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(values)
        )

    def _link_mails(self):
        """Payment-link emails queued during the mock (mass mailing: queued)."""
        return self._new_mails.filtered(lambda m: "online" in (m.subject or ""))

    def test_wizard_email_sends_stable_link_without_gateway_call(self):
        invoice = self._invoice(100.0)
        wizard = self._wizard(
            invoice, channel="email", message="Thanks for your order!"
        )
        self.assertEqual(wizard.amount, 100.0)
        with self.mock_mail_gateway():
            wizard.action_send()
        url = invoice.paycrm_link_url
        mail = self._link_mails()
        self.assertEqual(len(mail), 1)
        self.assertIn(url, mail.body_html)
        self.assertIn("Thanks for your order!", mail.body_html)
        self.assertEqual(mail.recipient_ids, self.customer)
        # The email is logged in the invoice's chatter (the "sent" audit).
        self.assertEqual(mail.mail_message_id.res_id, invoice.id)
        self.assertIn(mail.mail_message_id, invoice.message_ids)
        self.assertFalse(self.standin.requests)
        self.assertFalse(invoice.paycrm_link_ids)

    def test_wizard_sms_goes_to_e164_mobile(self):
        invoice = self._invoice(100.0)
        self.assertEqual(self.customer.paycrm_mobile_e164, MOBILE)
        with self.mockSMSGateway():
            self._wizard(invoice, channel="sms").action_send()
        self.assertSMSIapSent([MOBILE], content=invoice.paycrm_link_url)
        self.assertIn(invoice.paycrm_link_url, invoice.message_ids[0].body)

    def test_partner_without_email_or_mobile_skips_channels(self):
        partner = self.env["res.partner"].create({"name": "No Contact"})
        invoice = self._invoice(100.0, partner=partner)
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self._wizard(invoice, channel="email_sms").action_send()
        self.assertFalse(self._link_mails())
        self.assertFalse(self._sms)
        self.assertIn("Email skipped", invoice.message_ids[0].body)
        self.assertIn("SMS skipped", invoice.message_ids[0].body)
        # An invalid number is skipped too, with the reason.
        partner.write({"email": "nc@example.com", "mobile": "12345"})
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self._wizard(invoice, channel="email_sms").action_send()
        self.assertEqual(len(self._link_mails()), 1)
        self.assertFalse(self._sms)
        self.assertIn("not a valid phone number", invoice.message_ids[0].body)

    def test_wizard_amount_validation(self):
        invoice = self._invoice(100.0)
        for amount in (100.01, 0.0, -5.0):
            with self.subTest(amount=amount), self.assertRaises(ValidationError):
                self._wizard(invoice, amount=amount)
        wizard = self._wizard(invoice, amount=40.0, channel="copy")
        self.assertIn("amount=4000", wizard.link_url)
        self.assertTrue(
            self.env["paycrm.link.url"]._paycrm_check_amount_signature(
                invoice, 4000, wizard.link_url.split("sig=")[1]
            )
        )
        self.assertFalse(
            self.env["paycrm.link.url"]._paycrm_check_amount_signature(
                invoice, 4001, wizard.link_url.split("sig=")[1]
            )
        )

    def test_list_action_sends_for_many_and_skips_unpayable(self):
        invoices = self._invoice(10.0) | self._invoice(20.0) | self._invoice(30.0)
        paid = invoices[2]
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        action = invoices.action_paycrm_send_link()
        self.assertEqual(action["res_model"], "paycrm.link.wizard")
        with self.mock_mail_gateway():
            result = self._wizard(invoices, channel="email").action_send()
        mails = self._link_mails()
        self.assertEqual(len(mails), 2)
        for invoice in invoices[:2]:
            self.assertIn(invoice.paycrm_link_url, "".join(mails.mapped("body_html")))
        self.assertIn("1 skipped", result["params"]["message"])

    def test_standard_invoice_email_carries_pay_button(self):
        invoice = self._invoice(100.0)
        template = self.env.ref("account.email_template_edi_invoice")
        with self.mock_mail_gateway():
            invoice.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
        self.assertEqual(len(self._mails), 1)
        self.assertIn("o_paycrm_mail_pay", self._mails[0]["body"])
        self.assertIn(invoice.paycrm_link_url, self._mails[0]["body"])
        # A paid invoice's email has no pay button.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        with self.mock_mail_gateway():
            invoice.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
        self.assertNotIn("o_paycrm_mail_pay", self._mails[0]["body"])

    def test_send_link_on_post_setting(self):
        with self.mock_mail_gateway():
            self._invoice(100.0)
        self.assertFalse(self._link_mails())
        self.company.paycrm_send_link_on_post = True
        with self.mock_mail_gateway():
            invoice = self._invoice(100.0)
        self.assertEqual(len(self._link_mails()), 1)
        self.assertIn(invoice.paycrm_link_url, self._link_mails().body_html)

    def test_automation_rule_texts_link_for_big_invoices(self):
        """The README example: when an invoice over 1,000 is posted, text the link."""
        self.env["base.automation"].create(
            {
                "name": "Text the payment link of big invoices",
                "model_id": self.env.ref("account.model_account_move").id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    (6, 0, self.env.ref("account.field_account_move__state").ids)
                ],
                "filter_pre_domain": "[('state', '=', 'draft')]",
                "filter_domain": "[('move_type', '=', 'out_invoice'), "
                "('state', '=', 'posted'), ('amount_total', '>', 1000)]",
                "action_server_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Text the link",
                            "model_id": self.env.ref("account.model_account_move").id,
                            "state": "multi",
                            "child_ids": [
                                (
                                    6,
                                    0,
                                    self.env.ref(
                                        "paycrm_connector.action_paycrm_send_link_sms"
                                    ).ids,
                                )
                            ],
                        },
                    )
                ],
            }
        )
        with self.mockSMSGateway():
            small = self._invoice(500.0)
        self.assertFalse(self._sms)
        with self.mockSMSGateway():
            big = self._invoice(1500.0)
        self.assertSMSIapSent([MOBILE], content=big.paycrm_link_url)
        self.assertNotIn(small.paycrm_link_url, [s["body"] for s in self._sms])

    def test_create_link_server_action(self):
        invoice = self._invoice(100.0)
        action = self.env.ref("paycrm_connector.action_paycrm_create_link")
        action.with_context(active_model="account.move", active_ids=invoice.ids).run()
        link = invoice.paycrm_link_ids
        self.assertEqual(link.gateway_id, self.demo_gateway)
        self.assertTrue(link.session_ref.startswith("demo_cs_"))
        self.assertIn(f"/paycrm/demo/checkout/{link.session_ref}", link.url)

    def test_link_security(self):
        invoice = self._invoice(100.0)
        invoice._paycrm_action_create_link()
        user = self._make_user(
            "linkuser", ["base.group_user", "paycrm_connector.group_paycrm_user"]
        )
        link_as_user = invoice.paycrm_link_ids.with_user(user)
        self.assertTrue(link_as_user.session_ref)
        with self.assertRaises(AccessError):
            link_as_user.write({"state": "paid"})
        company_b = self.setup_other_company(name="Company B")["company"]
        other = self._make_user(
            "otheruser",
            ["base.group_user", "paycrm_connector.group_paycrm_manager"],
            company=company_b,
        )
        self.assertFalse(self.env["paycrm.link"].with_user(other).search([]))
