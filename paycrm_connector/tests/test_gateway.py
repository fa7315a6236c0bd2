from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import PaycrmCommon, free_port


@tagged("post_install", "-at_install")
class TestGateway(PaycrmCommon):
    def test_first_save_creates_clearing_journal_and_secret(self):
        gateway = self.demo_gateway
        self.assertEqual(gateway.journal_id.type, "bank")
        self.assertEqual(gateway.journal_id.company_id, self.company)
        self.assertIn("Clearing", gateway.journal_id.name)
        self.assertEqual(gateway.fee_account_id.account_type, "expense")
        self.assertEqual(len(gateway.webhook_secret), 64)
        self.assertNotEqual(
            gateway.journal_id, self.stripe_gateway.journal_id, "one journal each"
        )

    def test_given_journal_is_kept(self):
        journal = self.company_data["default_journal_bank"]
        gateway = self.env["paycrm.gateway"].create(
            {"name": "Kept", "provider": "demo", "journal_id": journal.id}
        )
        self.assertEqual(gateway.journal_id, journal)

    def test_first_enabled_gateway_becomes_company_default(self):
        self.assertEqual(self.company.paycrm_gateway_id, self.demo_gateway)
        self.assertTrue(self.demo_gateway.is_default)
        self.assertFalse(self.stripe_gateway.is_default)
        self.stripe_gateway.is_default = True
        self.assertEqual(self.company.paycrm_gateway_id, self.stripe_gateway)
        self.assertFalse(self.demo_gateway.is_default)

    def test_webhook_url_from_base_url(self):
        self.env["ir.config_parameter"].set_param(
            "web.base.url", "https://erp.example.com"
        )
        self.assertEqual(
            self.stripe_gateway.webhook_url,
            f"https://erp.example.com/paycrm/webhook/{self.stripe_gateway.id}",
        )

    def test_stripe_session_lifetime_bounds(self):
        for hours in (0.25, 25, 0):
            with self.subTest(hours=hours), self.assertRaises(ValidationError):
                self.stripe_gateway.link_lifetime_hours = hours
                self.stripe_gateway.flush_recordset()
        self.stripe_gateway.link_lifetime_hours = 0.5
        self.stripe_gateway.flush_recordset()

    def test_api_base_url_must_be_http(self):
        with self.assertRaises(ValidationError):
            self.stripe_gateway.api_base_url = "ftp://127.0.0.1"

    def test_demo_connection(self):
        action = self.demo_gateway.action_paycrm_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.demo_gateway.connection_state, "ok")

    def test_stripe_connection_ok_goes_through_sdk(self):
        action = self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.stripe_gateway.connection_state, "ok")
        self.assertIn("connected", self.stripe_gateway.connection_message)
        request = self.standin.last("GET", "/v1/balance")
        self.assertEqual(request.headers["Authorization"], "Bearer sk_test_paycrm")

    def test_stripe_wrong_key(self):
        self.standin.valid_keys = {"sk_test_other"}
        self.addCleanup(setattr, self.standin, "valid_keys", None)
        action = self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.stripe_gateway.connection_state, "auth")
        self.assertEqual(
            self.stripe_gateway.connection_message,
            "authentication failed — check the secret key",
        )

    def test_stripe_missing_key(self):
        self.stripe_gateway.secret_key = False
        self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(self.stripe_gateway.connection_state, "auth")
        self.assertIn("no secret key", self.stripe_gateway.connection_message)

    def test_stripe_unreachable(self):
        self.stripe_gateway.write(
            {"api_base_url": f"http://127.0.0.1:{free_port()}", "timeout": 1.5}
        )
        action = self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.stripe_gateway.connection_state, "unreachable")
        self.assertIn(
            "connection refused or host not found",
            self.stripe_gateway.connection_message,
        )

    def test_stripe_timeout(self):
        self.standin.delay = 1.0
        self.addCleanup(setattr, self.standin, "delay", 0.0)
        self.stripe_gateway.timeout = 0.2
        self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(self.stripe_gateway.connection_state, "unreachable")
        self.assertIn("timeout after 0.2 s", self.stripe_gateway.connection_message)

    def test_stripe_server_error(self):
        self.standin.fail_next(status=500, path_prefix="/v1/balance")
        self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(self.stripe_gateway.connection_state, "unreachable")
        self.assertEqual(
            self.stripe_gateway.connection_message,
            "gateway error (HTTP 500) — try again later",
        )

    def test_stripe_retries_server_errors_when_configured(self):
        self.stripe_gateway.max_network_retries = 2
        self.standin.fail_next(status=500, count=1, path_prefix="/v1/balance")
        self.stripe_gateway.action_paycrm_test_connection()
        self.assertEqual(self.stripe_gateway.connection_state, "ok")
        balance_calls = [r for r in self.standin.requests if r.path == "/v1/balance"]
        self.assertEqual(len(balance_calls), 2)

    def test_secret_never_in_chatter(self):
        self.stripe_gateway.write(
            {"secret_key": "sk_test_rotated", "webhook_secret": "whsec_rotated"}
        )
        self.stripe_gateway.action_paycrm_test_connection()
        bodies = " ".join(
            str(m.body) + str(m.tracking_value_ids.mapped("new_value_char"))
            for m in self.stripe_gateway.message_ids
        )
        self.assertNotIn("sk_test_rotated", bodies)
        self.assertNotIn("whsec_rotated", bodies)
