from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import PaycrmCommon, free_port


@tagged("post_install", "-at_install")
class TestPartner(PaycrmCommon):
    def test_mobile_normalised_to_e164(self):
        self.assertEqual(self.customer.paycrm_mobile_e164, "+32470123456")
        self.assertTrue(self.customer.paycrm_mobile_valid)
        self.assertFalse(self.customer.paycrm_phone_warning)
        self.customer.write(
            {"mobile": "06 12 34 56 78", "country_id": self.env.ref("base.fr").id}
        )
        self.assertEqual(self.customer.paycrm_mobile_e164, "+33612345678")

    def test_invalid_phone_is_flagged_not_raised(self):
        self.customer.mobile = "12345"
        self.assertFalse(self.customer.paycrm_mobile_valid)
        self.assertFalse(self.customer.paycrm_mobile_e164)
        self.assertIn("12345 is not a valid phone number", self.customer.paycrm_phone_warning)
        self.customer.mobile = "not a phone"
        self.assertFalse(self.customer.paycrm_mobile_valid)

    def test_phone_without_country(self):
        partner = self.env["res.partner"].create(
            {"name": "No Country", "mobile": "+49 1512 3456789"}
        )
        self.assertEqual(partner.paycrm_mobile_e164, "+4915123456789")
        self.assertFalse(partner.paycrm_phone_warning)
        self.company.country_id = self.env.ref("base.be")
        national = self.env["res.partner"].create(
            {"name": "National", "mobile": "0470 12 34 56"}
        )
        self.assertEqual(national.paycrm_mobile_e164, "+32470123456")
        self.assertIn("No country on the customer", national.paycrm_phone_warning)

    def test_phone_falls_back_from_mobile_to_phone(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Landline",
                "phone": "+33 1 23 45 67 89",
                "country_id": self.env.ref("base.fr").id,
            }
        )
        self.assertEqual(partner.paycrm_mobile_e164, "+33123456789")

    def test_sync_creates_then_updates_stripe_customer(self):
        self.demo_gateway.state = "disabled"
        self.customer.action_paycrm_sync_gateway()
        create = self.standin.last("POST", "/v1/customers")
        self.assertEqual(create.params["name"], "Ada Customer")
        self.assertEqual(create.params["email"], "ada@example.com")
        self.assertEqual(create.params["phone"], "+32470123456")
        self.assertEqual(create.params["address"]["country"], "BE")
        self.assertEqual(create.params["address"]["city"], "Brussels")
        self.assertEqual(
            create.params["metadata"]["odoo_partner_id"], str(self.customer.id)
        )
        self.assertTrue(create.headers["Idempotency-Key"])
        ref = self.customer.paycrm_customer_ref_ids
        self.assertEqual(ref.gateway_id, self.stripe_gateway)
        self.assertTrue(ref.reference.startswith("cus_"))

        self.customer.email = "ada.new@example.com"
        self.customer.action_paycrm_sync_gateway()
        update = self.standin.last("POST", f"/v1/customers/{ref.reference}")
        self.assertEqual(update.params["email"], "ada.new@example.com")
        self.assertEqual(len(self.customer.paycrm_customer_ref_ids), 1)
        self.assertEqual(
            self.standin.get("customer", ref.reference)["email"],
            "ada.new@example.com",
        )

    def test_sync_demo_gateway_needs_no_network(self):
        self.stripe_gateway.state = "disabled"
        self.customer.action_paycrm_sync_gateway()
        self.assertEqual(
            self.customer.paycrm_customer_ref_ids.reference,
            f"demo_cus_{self.customer.id}",
        )
        self.assertFalse(self.standin.requests)

    def test_sync_partner_without_email(self):
        self.demo_gateway.state = "disabled"
        partner = self.env["res.partner"].create({"name": "Mailless"})
        partner.action_paycrm_sync_gateway()
        create = self.standin.last("POST", "/v1/customers")
        self.assertEqual(create.params["email"], "")
        self.assertTrue(partner.paycrm_customer_ref_ids.reference)

    def test_sync_failure_is_a_clear_user_error(self):
        self.demo_gateway.state = "disabled"
        self.stripe_gateway.api_base_url = f"http://127.0.0.1:{free_port()}"
        with self.assertRaisesRegex(UserError, "gateway unreachable"):
            self.customer.action_paycrm_sync_gateway()
        self.assertFalse(self.customer.paycrm_customer_ref_ids)

    def test_sync_without_gateway(self):
        (self.demo_gateway | self.stripe_gateway).write({"state": "disabled"})
        with self.assertRaisesRegex(UserError, "No enabled payment gateway"):
            self.customer.action_paycrm_sync_gateway()
