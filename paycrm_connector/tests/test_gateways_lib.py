"""The plain-Python adapters and money helpers, without the ORM."""

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector.gateways import (
    CustomerData,
    GatewayAuthError,
    GatewayConfig,
    GatewayError,
    get_adapter,
)
from odoo.addons.paycrm_connector.gateways.money import (
    from_minor,
    stripe_exponent,
    to_minor,
)

from .stripe_standin import StripeStandin


@tagged("post_install", "-at_install")
class TestGatewaysLib(BaseCase):
    def test_to_minor(self):
        for code, iso, amount, minor in [
            ("EUR", 2, 12.34, 1234),
            ("EUR", 2, 0.1 + 0.2, 30),
            ("JPY", 0, 1500, 1500),
            ("KWD", 3, 1.005, 1005),
            ("BHD", 3, 10, 10000),
            ("XOF", 0, 999.5, 1000),
        ]:
            with self.subTest(code=code, amount=amount):
                exponent = stripe_exponent(code, iso)
                self.assertEqual(to_minor(amount, exponent), minor)
                self.assertAlmostEqual(
                    float(from_minor(minor, exponent)), minor / 10**exponent
                )

    def test_unknown_provider(self):
        with self.assertRaises(GatewayError):
            get_adapter(GatewayConfig(provider="nope"))

    def test_stripe_adapter_requires_key(self):
        with self.assertRaises(GatewayAuthError):
            get_adapter(GatewayConfig(provider="stripe"))

    def test_stripe_adapter_customer_roundtrip(self):
        with StripeStandin() as standin:
            adapter = get_adapter(
                GatewayConfig(
                    provider="stripe",
                    secret_key="sk_test_lib",
                    api_base=standin.url,
                    max_retries=0,
                )
            )
            customer = CustomerData(partner_id=7, name="Lib", country_code="DE")
            ref = adapter.upsert_customer(customer, idempotency_key="k-7")
            again = adapter.upsert_customer(customer, idempotency_key="k-7")
            self.assertEqual(ref, again, "same idempotency key, same customer")
            self.assertEqual(standin.idempotent_replays, 1)
            self.assertEqual(adapter.upsert_customer(customer, reference=ref), ref)
            self.assertEqual(standin.last("POST").path, f"/v1/customers/{ref}")

    def test_demo_adapter_is_deterministic(self):
        adapter = get_adapter(GatewayConfig(provider="demo"))
        customer = CustomerData(partner_id=3, name="Demo")
        self.assertEqual(adapter.upsert_customer(customer), "demo_cus_3")
        self.assertIn("demo", adapter.check_connection())
