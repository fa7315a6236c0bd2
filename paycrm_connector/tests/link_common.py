"""Helpers for payment-link tests that go through Odoo's real HTTP stack."""

from urllib.parse import urlsplit

from odoo.tests import HttpCase

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
