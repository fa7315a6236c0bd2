"""Test Connection against servers that are not the gateway (issue 12, item 10):
every outcome is one plain sentence, never a traceback."""

from odoo.tests import tagged

from .common import PaycrmCommon, free_port
from .junk_standin import JunkStandin

JSON = "application/json"
# (status, body, content type) of answers no gateway gives.
JUNK = {
    "empty 200": (200, b"", "text/plain"),
    "HTML page": (200, b"<html><body>Welcome to nginx!</body></html>", "text/html"),
    "JSON without the gateway's fields": (200, b'{"status": "ok"}', JSON),
    "JSON list": (200, b"[1, 2, 3]", JSON),
    "JSON null": (200, b"null", JSON),
    "broken JSON": (200, b'{"livemode": ', JSON),
    "token of the wrong type": (200, b'{"access_token": 5, "expires_in": "x"}', JSON),
    "404 page": (404, b"<html>Not Found</html>", "text/html"),
    "404 JSON": (404, b'{"detail": "Not found."}', JSON),
    "400 with a foreign error shape": (400, b'{"error": 5, "details": "x"}', JSON),
    "422 with junk details": (422, b'{"details": "x", "name": 5}', JSON),
    "401 page": (401, b"<html>Unauthorized</html>", "text/html"),
    "500 page": (500, b"<html>Internal Server Error</html>", "text/html"),
    "502 empty": (502, b"", "text/plain"),
}
# Refusals shaped as the gateways' own (a path the API does not know).
REFUSALS = {
    "stripe": (
        404,
        b'{"error": {"type": "invalid_request_error", "code": "resource_missing",'
        b' "message": "Unrecognized request URL (GET: /v1/balance)."}}',
    ),
    "paypal": (
        422,
        b'{"name": "UNPROCESSABLE_ENTITY", "message": "The requested action '
        b'could not be performed."}',
    ),
}


@tagged("post_install", "-at_install")
class TestConnectionPlainWords(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.junk = JunkStandin().start()
        cls.addClassCleanup(cls.junk.stop)
        common = {
            "company_id": cls.company.id,
            "secret_key": "sk_test_paycrm",
            "api_base_url": cls.junk.url,
            "timeout": 0.5,
            "max_network_retries": 0,
        }
        cls.gateways = {
            "stripe": cls.env["paycrm.gateway"].create(
                dict(common, name="Stripe elsewhere", provider="stripe")
            ),
            "paypal": cls.env["paycrm.gateway"].create(
                dict(
                    common,
                    name="PayPal elsewhere",
                    provider="paypal",
                    paypal_client_id="client_paycrm",
                    paypal_webhook_id="WH-1",
                )
            ),
        }

    def setUp(self):
        super().setUp()
        self.junk.delay = 0.0
        self.junk.requests.clear()

    def assertPlainSentence(self, gateway, expected_state=None):
        action = gateway.action_paycrm_test_connection()
        message = action["params"]["message"]
        self.assertEqual(action["params"]["type"], "danger", message)
        self.assertEqual(gateway.connection_message, message)
        self.assertNotEqual(gateway.connection_state, "ok")
        if expected_state:
            self.assertEqual(gateway.connection_state, expected_state)
        self.assertTrue(message and "\n" not in message, message)
        self.assertLess(len(message), 200, message)
        for python in ("Traceback", "Error:", "Error(", "object has no", "None"):
            self.assertNotIn(python, message)
        return message

    def test_answers_that_are_not_the_gateway(self):
        for provider, gateway in self.gateways.items():
            for name, (status, body, content_type) in JUNK.items():
                with self.subTest(provider=provider, answer=name):
                    self.junk.serve(status, body, content_type)
                    message = self.assertPlainSentence(gateway)
                    self.assertTrue(self.junk.requests, "the stand-in was asked")
                    if status >= 500:
                        self.assertEqual(
                            message, f"gateway error (HTTP {status}) — try again later"
                        )
                    elif status != 401:
                        self.assertIn("check the API Base URL", message)

    def test_refusals_in_the_gateway_own_words(self):
        for provider, gateway in self.gateways.items():
            with self.subTest(provider=provider):
                status, body = REFUSALS[provider]
                self.junk.serve(status, body, JSON)
                message = self.assertPlainSentence(gateway, "error")
                self.assertTrue(message.startswith("gateway refused the request: "))

    def test_stripe_html_says_not_stripe(self):
        self.junk.serve(200, b"<html>It works!</html>", "text/html")
        message = self.assertPlainSentence(self.gateways["stripe"], "error")
        self.assertEqual(
            message,
            "the API base URL sent HTTP 200 with an answer that is not Stripe's — "
            "check the API Base URL, or leave it empty for Stripe itself",
        )

    def test_timeout(self):
        self.junk.serve(200, b"{}", JSON)
        self.junk.delay = 1.5
        for provider, gateway in self.gateways.items():
            with self.subTest(provider=provider):
                message = self.assertPlainSentence(gateway, "unreachable")
                self.assertEqual(message, "gateway unreachable (timeout after 0.5 s)")

    def test_connection_refused(self):
        for provider, gateway in self.gateways.items():
            with self.subTest(provider=provider):
                gateway.api_base_url = f"http://127.0.0.1:{free_port()}"
                message = self.assertPlainSentence(gateway, "unreachable")
                self.assertIn("connection refused or host not found", message)
