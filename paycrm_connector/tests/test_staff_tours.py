"""Browser tests per staff user (Odoo tours, headless Chromium; issue 14):
an invoicing user (not an administrator) sends a payment link from a posted
invoice and, after the customer paid on the demo page, sees the payment; the
administrator enables the demo gateway from the Configuration menu."""

import re

from odoo.tests import tagged

from .link_common import PaycrmLinkCase


@tagged("post_install", "-at_install")
class TestStaffTours(PaycrmLinkCase):
    browser_size = "1440x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's groups only: the connector's user group comes with them.
        cls.billing = cls._make_user(
            "paycrm_tour_billing", ["base.group_user", "account.group_account_invoice"]
        )
        cls.company.paycrm_gateway_id = cls.demo_gateway

    def _customer_pays(self, invoice):
        """The customer follows the stable link and pays on the demo page."""
        self.authenticate(None, None)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 303)
        path = self._location_path(response)
        page = self.url_open(path)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        submit = self.url_open(
            f"{path}/submit",
            data={"csrf_token": csrf, "outcome": "pay"},
            allow_redirects=False,
        )
        self.assertEqual(submit.status_code, 303)
        self.env["paycrm.event"]._paycrm_process_batch()
        self.env.invalidate_all()

    def test_invoicing_user_sends_link_and_sees_payment(self):
        self.assertFalse(self.billing.has_group("base.group_system"))
        self.assertFalse(
            self.billing.has_group("paycrm_connector.group_paycrm_manager")
        )
        invoice = self._invoice(250.0)
        url = f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}"
        self.start_tour(
            url, "paycrm_invoicing_user_send_link", login=self.billing.login
        )
        self.assertGreaterEqual(invoice.paycrm_link_sent_count, 1)
        self._customer_pays(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.start_tour(
            url, "paycrm_invoicing_user_sees_payment", login=self.billing.login
        )

    def test_admin_enables_demo_gateway(self):
        admin = self.env.ref("base.user_admin")
        admin.write(
            {"company_ids": [(4, self.company.id)], "company_id": self.company.id}
        )
        self.company.paycrm_gateway_id = False
        gateway = self.env["paycrm.gateway"].create(
            {
                "name": "Tour Demo",
                "provider": "demo",
                "state": "disabled",
                "company_id": self.company.id,
            }
        )
        self.start_tour(
            "/odoo/action-account.action_move_out_invoice_type",
            "paycrm_admin_enable_demo_gateway",
            login="admin",
        )
        self.assertEqual(gateway.state, "test")
        self.assertEqual(self.company.paycrm_gateway_id, gateway)
