"""Helpers for payment-link tests that go through Odoo's real HTTP stack."""

from urllib.parse import urlsplit

from odoo.tests import HttpCase
from odoo.tests.common import ChromeBrowser

from .common import PaycrmCommon


class PaycrmLinkCase(PaycrmCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jpy = cls.setup_other_currency("JPY", rounding=1.0)
        cls.kwd = cls.setup_other_currency("KWD", rounding=0.001)
        cls.eur = cls.setup_other_currency("EUR")

    def _stripe_invoice(self, amount=100.0, currency=None, partner=None):
        invoice = self._invoice(
            amount=amount, currency=currency, post=False, partner=partner
        )
        invoice.paycrm_gateway_id = self.stripe_gateway
        invoice.action_post()
        return invoice

    def _path(self, invoice, suffix=""):
        return f"/paycrm/pay/{invoice.id}/{invoice.access_token}{suffix}"

    def _click(self, invoice, suffix="", path=None):
        """GET the stable URL like a customer's browser, without following."""
        return self.url_open(path or self._path(invoice, suffix), allow_redirects=False)

    def _session_requests(self):
        return [
            r
            for r in self.standin.requests
            if r.method == "POST" and r.path == "/v1/checkout/sessions"
        ]

    @staticmethod
    def _location_path(response):
        return urlsplit(response.headers["Location"]).path

    # -- headless Chromium ---------------------------------------------------

    def _browser(self, login=None):
        """A headless Chromium on this test's server, logged in as ``login``
        (whose password is the login) when given, and a ``stop`` that closes it
        once, before the test's own checks or at cleanup."""
        browser = ChromeBrowser(self)
        stopped = []

        def stop():
            if not stopped:
                stopped.append(True)
                # Leave the page before closing: Chrome's stop aborts what the page
                # still loads, and its scripts log that as an error, which Odoo's
                # own test runner (and OCA's CI) report though the test passed.
                browser._wait_ready("document.readyState === 'complete'", 10)
                browser.navigate_to("about:blank", wait_stop=True)
                browser.stop()

        self.addCleanup(stop)
        if login:
            self.authenticate(login, login, browser=browser)
        # Requests from the browser use test cursors with their own caches.
        self.cr.flush()
        self.cr.clear()
        return browser, stop

    @staticmethod
    def _evaluate(browser, expression):
        """The value of a JavaScript expression in the page."""
        result = browser._websocket_request(
            "Runtime.evaluate", params={"expression": expression, "returnByValue": True}
        )
        return result["result"].get("value")
