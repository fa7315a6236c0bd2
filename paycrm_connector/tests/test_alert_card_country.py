"""Payment method and card country: stored from each gateway, the foreign-card
alert, the success rate by method and the profile's preferred method."""

import time

from odoo.tests import tagged

from ..gateways import DemoAdapter
from .webhook_common import WebhookHttpCase

DAY = 86400


@tagged("post_install", "-at_install")
class TestCardCountry(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.responsible = cls._make_user(
            "paycrm_card_alerts", ["base.group_user", "account.group_account_invoice"]
        )
        cls.company.paycrm_alert_user_id = cls.responsible
        cls.nowhere = cls.env["res.partner"].create({"name": "No Country Ltd"})

    def _alerts(self):
        return self.env["paycrm.alert"].search([("kind", "=", "card_country")])

    def _pay(self, invoice, method=("card", "visa", "US"), paid=True, at=None, n=1):
        obj = DemoAdapter.payment_object(
            f"demo_cs_{invoice.id}",
            int(invoice.amount_residual * 100) if paid else 1000,
            invoice.currency_id.name,
            self._meta(invoice),
            paid=paid,
            method=method,
        )
        obj["id"] = f"demo_pay_{invoice.id}_{n}"
        event = DemoAdapter.build_event(
            "payment.succeeded" if paid else "payment.failed", obj, created=at
        )
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        self.env.cr.flush()  # the pre-commit alert and profile queues
        stored = self._event(event["id"])
        self.assertEqual(stored.state, "done", stored.last_error)
        return stored

    def test_foreign_card_alerts_once_per_window(self):
        first = self._invoice(100.0)
        event = self._pay(first)
        self.assertEqual(
            (event.payment_method, event.card_brand, event.card_country_id.code),
            ("card", "visa", "US"),
        )
        alert = self._alerts()
        self.assertEqual(len(alert), 1)
        self.assertEqual(
            (alert.partner_id, alert.invoice_id, alert.event_id),
            (self.customer, first, event),
        )
        self.assertEqual(
            alert.message,
            "Ada Customer (Belgium) used a card issued in United States to pay "
            f"{first.name}.",
        )
        self.assertEqual(alert.activity_ids.user_id, self.responsible)
        # The same card country again within the window: no second alert, not
        # for a failed attempt either.
        second = self._invoice(50.0)
        self._pay(second, paid=False)
        self._pay(second, n=2)
        self.assertEqual(len(self._alerts()), 1)
        # Another country, or the next window, is worth telling.
        self._pay(self._invoice(20.0), method=("card", "visa", "BR"))
        later = int(time.time()) + 31 * DAY
        self._pay(self._invoice(30.0), at=later)
        self.assertEqual(len(self._alerts()), 3)

    def test_normal_payments_are_quiet(self):
        # Home country, no card (PayPal, SEPA), a customer without a country,
        # and the rule switched off.
        self._pay(self._invoice(100.0), method=("card", "visa", "BE"))
        self._pay(self._invoice(100.0), method=("paypal", "", ""))
        self._pay(self._invoice(100.0), method=("sepa_debit", "", ""))
        self._pay(self._invoice(100.0, partner=self.nowhere))
        self.company.paycrm_alert_card_country = False
        self._pay(self._invoice(100.0))
        self.assertFalse(self._alerts())
        self.assertFalse(self.env["paycrm.alert"].search([]))

    def test_success_rate_by_method_and_preferred_method(self):
        card, sepa = ("card", "visa", "BE"), ("sepa_debit", "", "")
        self._pay(self._invoice(100.0), method=card)
        self._pay(self._invoice(60.0), method=card)
        failing = self._invoice(40.0)
        self._pay(failing, method=sepa, paid=False)
        self._pay(failing, method=sepa, n=2)
        self._pay(self._invoice(10.0), method=card, paid=False)
        analysis = self.env["paycrm.gateway.analysis"]
        rows = analysis._read_group(
            [("gateway_id", "=", self.demo_gateway.id)],
            ["payment_method"],
            ["attempt_count:sum", "succeeded_count:sum", "success_rate:avg"],
        )
        got = {method: (n, ok, round(rate, 2)) for method, n, ok, rate in rows}
        self.assertEqual(got, {"card": (3, 2, 66.67), "sepa_debit": (2, 1, 50.0)})
        # The view agrees with the stored events.
        events = self.events.search(
            [("gateway_id", "=", self.demo_gateway.id), ("state", "=", "done")]
        )
        for method, (attempts, succeeded, _rate) in got.items():
            mine = events.filtered(lambda e, m=method: e.payment_method == m)
            self.assertEqual(len(mine), attempts)
            self.assertEqual(
                len(mine.filtered(lambda e: e.kind == "payment_succeeded")), succeeded
            )
        self.assertEqual(self.customer.paycrm_preferred_method, "card")
        self.assertEqual(self.customer.paycrm_preferred_gateway_id, self.demo_gateway)


@tagged("post_install", "-at_install")
class TestCardCountryStripe(WebhookHttpCase):
    def test_checkout_session_method_from_the_charge(self):
        invoice = self._invoice(100.0)
        meta = self._meta(invoice)
        session = self.standin.put(
            "checkout.session",
            {
                "amount_total": 10000,
                "currency": "usd",
                "status": "open",
                "payment_status": "unpaid",
                "metadata": meta,
                "payment_intent_data": {"metadata": meta},
                "customer": None,
            },
        )
        paid = self.standin.complete_session(session["id"])
        # The stand-in's charge is Stripe's example: a US Visa card.
        self.assertEqual(
            paid["charge"]["payment_method_details"]["card"]["country"], "US"
        )
        event = self._stripe_event("checkout.session.completed", paid["session"])
        self.assertEqual(self._post_stripe(event).status_code, 200)
        self._process()
        self.env.cr.flush()
        stored = self._event(event["id"], self.stripe_gateway)
        self.assertEqual(stored.state, "done", stored.last_error)
        self.assertEqual(
            (stored.payment_method, stored.card_brand, stored.card_country_id.code),
            ("card", "visa", "US"),
        )
        alert = self.env["paycrm.alert"].search([("kind", "=", "card_country")])
        self.assertEqual(alert.event_id, stored)


@tagged("post_install", "-at_install")
class TestDemoPageMethod(WebhookHttpCase):
    def test_bad_method_or_country_is_refused(self):
        invoice = self._invoice(100.0)
        link, _created = self.env["paycrm.link"]._paycrm_checkout_for(invoice)
        path = f"/paycrm/demo/checkout/{link.session_ref}"
        page = self.url_open(path)
        self.assertIn('name="card_country"', page.text)
        self.assertIn('value="BE"', page.text)  # the customer's country, preset
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        for data in (
            {"method": "cash"},
            {"method": "card", "card_country": "USA"},
            {"method": "card", "card_country": "1X"},
        ):
            with self.subTest(**data):
                response = self.url_open(
                    f"{path}/submit",
                    data={"csrf_token": csrf, "outcome": "pay", **data},
                    allow_redirects=False,
                )
                self.assertEqual(response.status_code, 400)
                self.assertIn("two-letter", response.text)
        self.assertFalse(self.events.search([]))
