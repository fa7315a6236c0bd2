"""Group defaults: Invoicing / Billing users get the everyday connector
features, Billing Administrators its configuration, nobody else anything."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import GROUP_INVOICE, GROUP_MANAGER, GROUP_USER, PaycrmCommon


@tagged("post_install", "-at_install")
class TestSecurityGroupDefaults(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Only Odoo's own groups: the connector's come by implication.
        cls.billing = cls._make_internal_user("paycrm_billing", GROUP_INVOICE)
        cls.billing_admin = cls._make_internal_user(
            "paycrm_billing_admin", "account.group_account_manager"
        )
        cls.employee = cls._make_internal_user("paycrm_employee")
        cls.company.paycrm_gateway_id = cls.demo_gateway

    def _menus(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_invoicing_user_is_connector_user(self):
        self.assertTrue(self.billing.has_group(GROUP_USER))
        self.assertFalse(self.billing.has_group(GROUP_MANAGER))
        self.assertTrue(self.billing_admin.has_group(GROUP_MANAGER))
        self.assertFalse(self.employee.has_group(GROUP_USER))

    def test_existing_invoicing_users_get_the_group(self):
        """Users who held the Odoo group before (the link is data) have it too."""
        invoice_group = self.env.ref(GROUP_INVOICE)
        self.assertIn(self.env.ref(GROUP_USER), invoice_group.trans_implied_ids)
        users = invoice_group.users.filtered("active")
        self.assertTrue(users)
        self.assertEqual(
            users.filtered(lambda u: not u.has_group(GROUP_USER)), users[:0]
        )

    def test_groups_are_a_selection_under_accounting(self):
        category = self.env.ref("paycrm_connector.module_category_paycrm")
        self.assertEqual(
            category.parent_id, self.env.ref("base.module_category_accounting")
        )
        found = [
            (kind, section)
            for app, kind, _groups, section in self.env[
                "res.groups"
            ].get_groups_by_application()
            if app == category
        ]
        self.assertEqual(
            found, [("selection", (category.parent_id.sequence, "Accounting"))]
        )

    def test_invoicing_user_sends_link(self):
        invoice = self._invoice(100.0)
        arch = self._view_arch("account.move", user=self.billing)
        self.assertTrue(arch.xpath("//button[@name='action_paycrm_send_link']"))
        self.assertTrue(arch.xpath("//page[@name='paycrm_online_payment']"))
        # Not the gateway refund: that is the administrators'.
        self.assertFalse(arch.xpath("//button[@name='action_paycrm_refund']"))
        invoice = invoice.with_user(self.billing)
        action = invoice.action_paycrm_send_link()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.billing)
            .with_context(**action.get("context", {}))
            .create({"channel": "email"})
        )
        wizard.action_send()
        self.assertTrue(invoice.paycrm_link_url)
        self.assertGreaterEqual(invoice.paycrm_link_sent_count, 1)

    def test_invoicing_user_sees_payment_state_and_profile(self):
        invoice = self._invoice(100.0).with_user(self.billing)
        invoice.read(
            ["paycrm_link_state", "paycrm_amount_received", "paycrm_fee_amount"]
        )
        partner = self.customer.with_user(self.billing)
        partner.read(["paycrm_risk_rating", "paycrm_on_time_rate", "paycrm_dso"])
        arch = self._view_arch("res.partner", user=self.billing)
        self.assertTrue(arch.xpath("//page[@name='paycrm_profile']"))
        self.assertTrue(arch.xpath("//button[@name='action_paycrm_open_invoices']"))
        list_arch = self._view_arch("account.move", "list", user=self.billing)
        self.assertTrue(list_arch.xpath("//field[@name='paycrm_link_state']"))

    def test_invoicing_user_cannot_configure_gateways(self):
        gateways = self.env["paycrm.gateway"].with_user(self.billing)
        self.assertEqual(
            gateways.browse(self.demo_gateway.id).name, self.demo_gateway.name
        )
        with self.assertRaises(AccessError):
            gateways.create({"name": "Mine", "provider": "demo"})
        with self.assertRaises(AccessError):
            gateways.browse(self.demo_gateway.id).write({"state": "disabled"})
        with self.assertRaises(AccessError):
            gateways.browse(self.stripe_gateway.id).read(["secret_key"])
        with self.assertRaises(AccessError):
            self.env["paycrm.reminder.policy"].with_user(self.billing).create(
                {"name": "Mine"}
            )
        menus = self._menus(self.billing)
        self.assertIn(self.env.ref("paycrm_connector.paycrm_menu_payments").id, menus)
        self.assertIn(self.env.ref("paycrm_connector.paycrm_menu_event").id, menus)
        # Configuration (and its Payment Connector section) is the administrators'.
        self.assertNotIn(self.env.ref("paycrm_connector.paycrm_menu_config").id, menus)
        self.assertNotIn(self.env.ref("account.menu_finance_configuration").id, menus)

    def test_billing_admin_configures_gateways(self):
        gateways = self.env["paycrm.gateway"].with_user(self.billing_admin)
        gateway = gateways.create({"name": "Second demo", "provider": "demo"})
        gateway.write({"state": "disabled"})
        self.assertTrue(gateway.read(["webhook_secret"])[0]["webhook_secret"])
        menus = self._menus(self.billing_admin)
        self.assertIn(self.env.ref("paycrm_connector.paycrm_menu_config").id, menus)
        self.assertIn(self.env.ref("paycrm_connector.paycrm_menu_gateway").id, menus)
        arch = self._view_arch("account.move", user=self.billing_admin)
        self.assertTrue(arch.xpath("//header/button[@name='action_paycrm_refund']"))

    def test_employee_sees_nothing(self):
        with self.assertRaises(AccessError):
            self.env["paycrm.gateway"].with_user(self.employee).search([])
        arch = self._view_arch("res.partner", user=self.employee)
        self.assertFalse(arch.xpath("//page[@name='paycrm_profile']"))
        self.assertNotIn(
            self.env.ref("paycrm_connector.paycrm_menu_payments").id,
            self._menus(self.employee),
        )
