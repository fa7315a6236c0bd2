"""A neutralized copy keeps no way to reach a gateway (issue 12, item 9)."""

from odoo.modules.neutralize import get_installed_modules, get_neutralization_queries
from odoo.tests import tagged

from .common import PaycrmCommon

# Every credential or endpoint a gateway record holds (models/paycrm_gateway.py).
CREDENTIALS = (
    "secret_key",
    "publishable_key",
    "webhook_secret",
    "paypal_client_id",
    "paypal_webhook_id",
    "webhook_endpoint_id",
    "api_base_url",
)


@tagged("post_install", "-at_install")
class TestNeutralize(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_paypal_gateway()
        cls.stripe_gateway.write({"publishable_key": "pk_test_paycrm", "state": "live"})
        cls.archived = cls.env["paycrm.gateway"].create(
            {
                "name": "Old Stripe",
                "provider": "stripe",
                "company_id": cls.company.id,
                "secret_key": "sk_test_old",
                "webhook_secret": "whsec_old",
                "webhook_endpoint_id": "we_old",
                "api_base_url": "https://stripe.internal.example",
                "active": False,
            }
        )
        cls.gateways = (
            cls.demo_gateway + cls.stripe_gateway + cls.paypal_gateway + cls.archived
        )

    def _neutralize(self):
        """What ``odoo-bin neutralize`` runs, on this test's transaction."""
        cr = self.env.cr
        self.env.flush_all()
        for query in get_neutralization_queries(get_installed_modules(cr)):
            cr.execute(query)
        self.env.invalidate_all()

    def test_every_credential_and_endpoint_cleared_and_gateways_disabled(self):
        self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(self.stripe_gateway.connection_state, "ok")
        for field in CREDENTIALS:
            self.assertTrue(
                any(self.gateways.mapped(field)), f"{field} set before neutralizing"
            )
        self._neutralize()
        for gateway in self.gateways:
            with self.subTest(gateway=gateway.name):
                for field in CREDENTIALS:
                    self.assertFalse(gateway[field], field)
                self.assertEqual(gateway.state, "disabled")
                self.assertEqual(gateway.connection_state, "unknown")
                self.assertFalse(gateway.connection_message)

    def test_every_credential_field_is_neutralized(self):
        """A new credential field must join neutralize.sql (and CREDENTIALS)."""
        fields = self.env["paycrm.gateway"]._fields
        secret_like = {
            name
            for name, field in fields.items()
            if field.type == "char"
            and field.store
            and any(
                word in name
                for word in ("key", "secret", "client", "url", "token", "webhook")
            )
        }
        self.assertEqual(secret_like, set(CREDENTIALS))
