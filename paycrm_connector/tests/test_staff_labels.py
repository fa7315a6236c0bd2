"""Staff screens speak plainly: events named by what happened, checkout lines
without session ids, the fee account a bank fees account (issue 14, item 10)."""

from odoo.tests import tagged
from odoo.tools import format_date, formatLang

from .webhook_common import WebhookCommon


@tagged("post_install", "-at_install")
class TestStaffEventLabels(WebhookCommon):
    def _paid(self, invoice, minor, ref):
        adapter = self.demo_gateway._paycrm_adapter()
        event = self._demo_payment(invoice, minor, ref=ref)
        self.events._paycrm_store(self.demo_gateway, adapter.payload(event), event)
        self._process()
        return self._event(event["id"])

    def test_event_display_name_is_human(self):
        invoice = self._invoice(100.0)
        event = self._paid(invoice, 10000, "demo_pay_label")
        self.assertEqual(event.state, "done")
        amount = formatLang(self.env, 100.0, currency_obj=invoice.currency_id)
        date = format_date(self.env, event.created)
        self.assertEqual(
            event.display_name, f"Payment of {amount} on {date} (demo_pay_label)"
        )
        self.assertNotIn(event.external_id, event.display_name)
        # Still found by its gateway id (a pasted evt_ id in a search box).
        found = self.events.name_search(event.external_id)
        self.assertEqual([row[0] for row in found], event.ids)

    def test_refund_wizard_shows_payment_by_name(self):
        invoice = self._invoice(100.0)
        event = self._paid(invoice, 10000, "demo_pay_refund_label")
        wizard = self.env["paycrm.refund"].create({"invoice_id": invoice.id})
        self.assertEqual(wizard.payment_event_id, event)
        label = wizard.payment_event_id.display_name
        self.assertTrue(label.startswith("Payment of "), label)
        self.assertIn("(demo_pay_refund_label)", label)
        self.assertNotIn("evt_demo_", label)

    def test_event_form_technical_page_and_pretty_payload(self):
        invoice = self._invoice(100.0)
        event = self._paid(invoice, 10000, "demo_pay_pretty")
        self.assertIn("\n", event.payload_pretty)
        self.assertIn('  "type": "payment.succeeded"', event.payload_pretty)
        self.assertEqual(event._fields["livemode"].string, "Live")
        arch = self._view_arch("paycrm.event")
        # Outside debug mode (group_no_one) no raw ids, type or payload.
        self.assertFalse(arch.xpath("//field[@name='payload']"))
        self.assertFalse(arch.xpath("//field[@name='payload_pretty']"))
        self.assertFalse(arch.xpath("//field[@name='event_type']"))
        self.assertTrue(arch.xpath("//h1/field[@name='title']"))
        self.assertEqual(event.title, event.display_name.split(" (")[0])

    def test_checkout_chatter_has_no_session_id(self):
        invoice = self._invoice(1800.0)
        public = self.env.ref("base.public_user")
        link, created = (
            self.env["paycrm.link"]
            .with_user(public)
            .sudo()
            ._paycrm_checkout_for(invoice)
        )
        self.assertTrue(created)
        message = invoice.message_ids[0]
        amount = formatLang(self.env, 1800.0, currency_obj=invoice.currency_id)
        amount = amount.replace("\xa0", "&nbsp;")
        self.assertIn(f"Checkout opened for {amount} on Demo (expires in", message.body)
        self.assertNotIn(link.session_ref, message.body)
        self.assertNotIn("UTC", message.body)
        # Written in the customer's name, not "Public user".
        self.assertEqual(message.author_id, invoice.partner_id)
        link._paycrm_mark_paid(link.session_ref, self.demo_gateway)
        self.assertNotIn(link.session_ref, invoice.message_ids[0].body)

    def test_invoice_refund_is_a_header_button(self):
        arch = self._view_arch("account.move")
        self.assertTrue(arch.xpath("//header/button[@name='action_paycrm_refund']"))


@tagged("post_install", "-at_install")
class TestFeeAccountDefault(WebhookCommon):
    def _new_gateway(self, name="Fees demo"):
        return self.env["paycrm.gateway"].create(
            {"name": name, "provider": "demo", "company_id": self.company.id}
        )

    def _hide_bank_fees_account(self):
        """The chart's bank fees account, neither tagged nor named as such."""
        self.env["ir.model.data"].search(
            [
                ("module", "=", "account"),
                ("name", "=", f"{self.company.id}_expense_finance"),
            ]
        ).unlink()
        self.env["account.account"].search(
            [("company_ids", "in", self.company.id), ("name", "=", "Bank Fees")]
        ).name = "Finance Costs"

    def test_fee_account_is_bank_fees(self):
        account = self._new_gateway().fee_account_id
        self.assertEqual(account.name, "Bank Fees")
        self.assertNotEqual(account.name, "Cash Discount Loss")

    def test_fee_account_found_by_name(self):
        self._hide_bank_fees_account()
        charges = self.env["account.account"].create(
            {
                "name": "Bank Charges",
                "code": "627100",
                "account_type": "expense",
                "company_ids": [self.company.id],
            }
        )
        self.assertEqual(self._new_gateway().fee_account_id, charges)

    def test_fee_account_created_when_chart_has_none(self):
        self._hide_bank_fees_account()
        account = self._new_gateway().fee_account_id
        self.assertEqual(account.name, "Payment Gateway Fees")
        self.assertEqual(account.account_type, "expense")
        self.assertIn(self.company, account.company_ids)
        # The next gateway finds it by name instead of creating another.
        self.assertEqual(self._new_gateway("Fees demo 2").fee_account_id, account)
