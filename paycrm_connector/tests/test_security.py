from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import GROUP_INVOICE, GROUP_MANAGER, GROUP_USER, PaycrmCommon


@tagged("post_install", "-at_install")
class TestSecurity(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = cls._make_internal_user("paycrm_sales", GROUP_USER, GROUP_INVOICE)
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.user_b = cls._make_internal_user(
            "paycrm_admin_b", GROUP_MANAGER, GROUP_INVOICE, company=cls.company_b
        )

    def test_sales_user_cannot_read_secrets(self):
        gateway = self.stripe_gateway.with_user(self.sales)
        self.assertEqual(gateway.name, "Stripe")
        for field in ("secret_key", "webhook_secret"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                gateway.read([field])
        data = gateway.read(["name", "provider"])[0]
        self.assertNotIn("secret_key", data)

    def test_sales_user_cannot_edit_gateway(self):
        with self.assertRaises(AccessError):
            self.stripe_gateway.with_user(self.sales).write({"name": "Hacked"})
        with self.assertRaises(AccessError):
            self.env["paycrm.gateway"].with_user(self.sales).create(
                {"name": "Mine", "provider": "demo"}
            )

    def test_sales_user_can_sync_without_seeing_secret(self):
        self.demo_gateway.state = "disabled"
        self.customer.with_user(self.sales).action_paycrm_sync_gateway()
        request = self.standin.last("POST", "/v1/customers")
        self.assertEqual(request.headers["Authorization"], "Bearer sk_test_paycrm")

    def test_other_company_gateway_is_invisible(self):
        gateways = self.env["paycrm.gateway"].with_user(self.user_b)
        self.assertFalse(gateways.search([("id", "=", self.stripe_gateway.id)]))
        with self.assertRaises(AccessError):
            gateways.browse(self.stripe_gateway.id).read(["name"])

    def test_secrets_not_sent_to_sales_form(self):
        arch = (
            self.env["paycrm.gateway"]
            .with_user(self.sales)
            .get_views([(False, "form")])["models"]["paycrm.gateway"]
        )
        self.assertNotIn("secret_key", arch["fields"])
        self.assertNotIn("webhook_secret", arch["fields"])

    def test_every_model_has_access_rows_and_company_rules(self):
        models = self.env["ir.model"].search(
            [("model", "=like", "paycrm.%"), ("transient", "=", False)]
        )
        self.assertTrue(models)
        # Abstract models (paycrm.booking) hold no rows: nothing to protect.
        models = models.filtered(lambda m: not self.env[m.model]._abstract)
        for model in models:
            with self.subTest(model=model.model):
                groups = model.access_ids.mapped("group_id")
                self.assertIn(self.env.ref(GROUP_USER), groups)
                self.assertIn(self.env.ref(GROUP_MANAGER), groups)
                if "company_id" in self.env[model.model]._fields:
                    self.assertTrue(
                        model.rule_ids.filtered(
                            lambda r: "company_ids" in r.domain_force
                        ),
                        f"{model.model} has no company rule",
                    )
