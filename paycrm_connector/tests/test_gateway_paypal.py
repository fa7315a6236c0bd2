from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from ..gateways import CheckoutRequest, PaypalAdapter, paypal
from .common import PaycrmCommon, free_port
from .paypal_standin import WEBHOOK_ID

USER = "paycrm_connector.group_paycrm_user"
INVOICE = "account.group_account_invoice"
SECRET_FIELDS = ("secret_key", "paypal_client_id", "paypal_webhook_id")


@tagged("post_install", "-at_install")
class TestGatewayPaypal(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_paypal_gateway()
        cls.sales = cls._make_user("paypal_sales", ["base.group_user", USER, INVOICE])

    def setUp(self):
        super().setUp()
        paypal.clear_token_cache()
        self.paypal_standin.requests.clear()

    def _check(self):
        action = self.paypal_gateway.action_paycrm_test_connection()
        return action["params"]["type"], self.paypal_gateway.connection_message

    def test_connection_ok_in_sandbox(self):
        self.assertEqual(self._check(), ("success", "connected to PayPal (sandbox)"))
        self.assertEqual(self.paypal_gateway.connection_state, "ok")
        request = self.paypal_standin.last("POST", "/v1/oauth2/token")
        self.assertTrue(request.headers["Authorization"].startswith("Basic "))

    def test_live_state_means_live(self):
        self.paypal_gateway.state = "live"
        config = self.paypal_gateway._paycrm_config()
        self.assertTrue(config.live)
        self.assertEqual(self._check()[1], "connected to PayPal (live)")
        self.paypal_gateway.api_base_url = False
        adapter = self.paypal_gateway._paycrm_adapter()
        self.assertEqual(adapter.api_base, paypal.LIVE_API_BASE)
        self.paypal_gateway.state = "test"
        adapter = self.paypal_gateway._paycrm_adapter()
        self.assertEqual(adapter.api_base, paypal.SANDBOX_API_BASE)

    def test_config_carries_paypal_settings(self):
        adapter = self.paypal_gateway._paycrm_adapter()
        self.assertIsInstance(adapter, PaypalAdapter)
        self.assertEqual(adapter.client_id, "client_paycrm")
        self.assertEqual(adapter.webhook_id, WEBHOOK_ID)
        self.assertEqual(adapter.config.secret_key, "secret_paycrm")
        self.assertEqual(self.stripe_gateway._paycrm_config().extra, {})

    def test_wrong_secret(self):
        self.paypal_gateway.secret_key = "rotated_elsewhere"
        self.assertEqual(
            self._check(),
            ("danger", "authentication failed — check the client id and secret"),
        )
        self.assertEqual(self.paypal_gateway.connection_state, "auth")

    def test_missing_client_id(self):
        self.paypal_gateway.paypal_client_id = False
        self.assertEqual(
            self._check(),
            ("danger", "no client id configured — paste it on the gateway"),
        )
        self.assertFalse(self.paypal_standin.requests)

    def test_missing_webhook_id_is_said(self):
        self.paypal_gateway.paypal_webhook_id = False
        kind, message = self._check()
        self.assertEqual(kind, "success")
        self.assertIn("no webhook id yet", message)

    def test_unreachable(self):
        self.paypal_gateway.write(
            {"api_base_url": f"http://127.0.0.1:{free_port()}", "timeout": 1.5}
        )
        kind, message = self._check()
        self.assertEqual(kind, "danger")
        self.assertIn("connection refused or host not found", message)
        self.assertEqual(self.paypal_gateway.connection_state, "unreachable")

    def test_server_error(self):
        self.paypal_standin.fail_next(500, path_prefix="/v1/oauth2/token")
        self.assertEqual(
            self._check(), ("danger", "gateway error (HTTP 500) — try again later")
        )

    def test_form_requires_credentials_when_enabled(self):
        form = Form(self.env["paycrm.gateway"])
        form.name = "PayPal EU"
        form.provider = "paypal"
        with self.assertRaises(AssertionError):
            form.save()  # client id and secret are required in test mode
        form.state = "disabled"
        gateway = form.save()
        self.assertEqual(gateway.provider, "paypal")

    def test_sales_user_cannot_read_credentials(self):
        gateway = self.paypal_gateway.with_user(self.sales)
        self.assertEqual(gateway.name, "PayPal")
        for field in SECRET_FIELDS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                gateway.read([field])
        arch = gateway.get_views([(False, "form")])["models"]["paycrm.gateway"]
        for field in SECRET_FIELDS:
            self.assertNotIn(field, arch["fields"])

    def test_sales_user_creates_checkout_without_seeing_secret(self):
        adapter = self.paypal_gateway.with_user(self.sales)._paycrm_adapter()
        session = adapter.create_checkout(
            CheckoutRequest(
                invoice_id=1,
                invoice_name="INV/1",
                amount_minor=1000,
                currency="EUR",
                success_url="https://erp.example.com/ok",
                cancel_url="https://erp.example.com/ko",
                expires_at=0,
                idempotency_key="sales-1",
            )
        )
        self.assertIn(session.session_id, self.paypal_standin.orders)

    def test_credentials_never_in_chatter(self):
        self.paypal_gateway.write(
            {"secret_key": "secret_rotated", "paypal_client_id": "client_rotated"}
        )
        self.paypal_gateway.action_paycrm_test_connection()
        bodies = " ".join(
            str(m.body) + str(m.tracking_value_ids.mapped("new_value_char"))
            for m in self.paypal_gateway.message_ids
        )
        self.assertNotIn("secret_rotated", bodies)
        self.assertNotIn("client_rotated", bodies)
