"""Shared set-up: a demo and a Stripe gateway pointed at a local stand-in."""

import socket

from lxml import etree

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .paypal_standin import WEBHOOK_ID, PaypalStandin
from .stripe_standin import StripeStandin

# The groups the security tests hand out (the connector's and Odoo's own).
GROUP_USER = "paycrm_connector.group_paycrm_user"
GROUP_MANAGER = "paycrm_connector.group_paycrm_manager"
GROUP_INVOICE = "account.group_account_invoice"


def free_port():
    """A loopback port nothing listens on (for 'gateway unreachable' tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PaycrmCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = StripeStandin().start()
        cls.addClassCleanup(cls.standin.stop)
        cls.env.user.groups_id |= cls.env.ref(GROUP_MANAGER)
        cls.company = cls.company_data["company"]
        cls.demo_gateway = cls.env["paycrm.gateway"].create(
            {"name": "Demo", "provider": "demo", "company_id": cls.company.id}
        )
        cls.stripe_gateway = cls.env["paycrm.gateway"].create(
            {
                "name": "Stripe",
                "provider": "stripe",
                "company_id": cls.company.id,
                "secret_key": "sk_test_paycrm",
                "webhook_secret": "whsec_test_paycrm",
                "api_base_url": cls.standin.url,
                "timeout": 2.0,
                "max_network_retries": 0,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Ada Customer",
                "email": "ada@example.com",
                "mobile": "+32 470 12 34 56",
                "country_id": cls.env.ref("base.be").id,
                "street": "Rue Neuve 1",
                "city": "Brussels",
                "zip": "1000",
            }
        )

    def setUp(self):
        super().setUp()
        self.standin.requests.clear()

    @classmethod
    def _setup_paypal_gateway(cls):
        """A PayPal gateway on a local PayPal stand-in, for classes that need one."""
        cls.paypal_standin = PaypalStandin("client_paycrm", "secret_paycrm").start()
        cls.addClassCleanup(cls.paypal_standin.stop)
        cls.paypal_gateway = cls.env["paycrm.gateway"].create(
            {
                "name": "PayPal",
                "provider": "paypal",
                "company_id": cls.company.id,
                "paypal_client_id": "client_paycrm",
                "secret_key": "secret_paycrm",
                "paypal_webhook_id": WEBHOOK_ID,
                "api_base_url": cls.paypal_standin.url,
                "timeout": 2.0,
                "max_network_retries": 0,
            }
        )

    @classmethod
    def _make_user(cls, login, groups, company=None):
        company = company or cls.company
        return cls.env["res.users"].create(
            {
                "name": login.title(),
                "login": login,
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "groups_id": [(6, 0, [cls.env.ref(g).id for g in groups])],
            }
        )

    @classmethod
    def _make_internal_user(cls, login, *groups, company=None):
        """An internal user (Employee) holding ``groups`` besides."""
        return cls._make_user(login, ["base.group_user", *groups], company=company)

    def _view_arch(self, model, view_type="form", user=None):
        """The parsed arch of ``model``'s default view, as ``user`` gets it."""
        records = self.env[model].with_user(user) if user else self.env[model]
        views = records.get_views([(False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def _invoice(self, amount=100.0, currency=None, post=True, partner=None):
        return self.init_invoice(
            "out_invoice",
            partner=partner or self.customer,
            amounts=[amount],
            currency=currency,
            post=post,
        )
