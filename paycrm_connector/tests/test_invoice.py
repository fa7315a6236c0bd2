from odoo.tests import tagged

from .common import PaycrmCommon


@tagged("post_install", "-at_install")
class TestInvoiceFields(PaycrmCommon):
    def test_posted_invoice_carries_stable_link(self):
        invoice = self._invoice(post=False)
        self.assertEqual(invoice.paycrm_gateway_id, self.demo_gateway)
        self.assertEqual(invoice.paycrm_link_state, "none")
        self.assertFalse(invoice.paycrm_link_url)
        invoice.action_post()
        self.assertEqual(invoice.paycrm_link_state, "active")
        self.assertTrue(invoice.access_token)
        self.assertTrue(
            invoice.paycrm_link_url.endswith(
                f"/paycrm/pay/{invoice.id}/{invoice.access_token}"
            )
        )

    def test_link_state_follows_invoice(self):
        invoice = self._invoice()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.paycrm_link_state, "paid")
        other = self._invoice()
        other.button_draft()
        other.button_cancel()
        self.assertEqual(other.paycrm_link_state, "cancelled")

    def test_only_customer_documents_get_gateway(self):
        bill = self.init_invoice("in_invoice", amounts=[50.0])
        self.assertFalse(bill.paycrm_gateway_id)
        refund = self.init_invoice("out_refund", amounts=[50.0], post=True)
        self.assertEqual(refund.paycrm_gateway_id, self.demo_gateway)
        self.assertEqual(refund.paycrm_link_state, "none")

    def test_settings_set_default_gateway(self):
        settings = self.env["res.config.settings"].create(
            {
                "paycrm_gateway_id": self.stripe_gateway.id,
                "paycrm_send_link_on_post": True,
            }
        )
        settings.execute()
        self.assertEqual(self.company.paycrm_gateway_id, self.stripe_gateway)
        self.assertTrue(self.company.paycrm_send_link_on_post)
        self.assertEqual(self._invoice().paycrm_gateway_id, self.stripe_gateway)
