"""The stable pay URL against Stripe (the real SDK, talking to the local stand-in)."""

import threading
import time
from urllib.parse import urlsplit

import requests

from odoo.tests import tagged

from odoo.addons.paycrm_connector import const

from .link_common import PaycrmLinkCase


@tagged("post_install", "-at_install")
class TestStablePayUrl(PaycrmLinkCase):
    def _assert_session_request(self, invoice, amount_minor, currency_code):
        reqs = self._session_requests()
        self.assertEqual(len(reqs), 1)
        params = reqs[0].params
        self.assertEqual(params["mode"], "payment")
        line = params["line_items"][0]
        self.assertEqual(line["quantity"], "1")
        self.assertEqual(line["price_data"]["unit_amount"], str(amount_minor))
        self.assertEqual(line["price_data"]["currency"], currency_code)
        self.assertEqual(line["price_data"]["product_data"]["name"], invoice.name)
        self.assertEqual(params["client_reference_id"], str(invoice.id))
        link = invoice.paycrm_link_ids
        expected_meta = {
            const.META_INVOICE_ID: str(invoice.id),
            const.META_INVOICE_NAME: invoice.name,
            const.META_COMPANY_ID: str(invoice.company_id.id),
            const.META_DB: self.env.cr.dbname,
            const.META_LINK_ID: str(link.id),
        }
        self.assertEqual(params["metadata"], expected_meta)
        self.assertEqual(params["payment_intent_data"]["metadata"], expected_meta)
        stable = self._path(invoice)
        # Stripe fills in the session id: the return knows what is in flight.
        self.assertTrue(
            params["success_url"].endswith(
                f"{stable}/done?session_id={{CHECKOUT_SESSION_ID}}"
            )
        )
        self.assertTrue(params["cancel_url"].endswith(f"{stable}/cancel"))
        self.assertTrue(params["customer"].startswith("cus_"))
        lifetime = int(self.stripe_gateway.link_lifetime_hours * 3600)
        self.assertAlmostEqual(
            int(params["expires_at"]), time.time() + lifetime, delta=300
        )
        key = reqs[0].headers.get("Idempotency-Key")
        self.assertEqual(
            key,
            f"paycrm-link-{self.env.cr.dbname}-{self.stripe_gateway.id}-{invoice.id}-"
            f"{amount_minor}{currency_code.upper()}-1",
        )
        return link

    def test_eur_click_redirects_to_new_session(self):
        invoice = self._stripe_invoice(123.45, currency=self.eur)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 303)
        link = self._assert_session_request(invoice, 12345, "eur")
        self.assertEqual(response.headers["Location"], link.url)
        self.assertTrue(self.standin.get("checkout.session", link.session_ref))
        self.assertEqual(
            (link.state, link.amount_minor, link.open_count), ("open", 12345, 1)
        )
        self.assertTrue(invoice.paycrm_link_last_opened)
        self.assertEqual(invoice.paycrm_link_expires_at, link.expires_at)
        # The chatter line speaks plainly: no raw session id (issue 14).
        self.assertIn("Checkout opened for", invoice.message_ids[0].body)
        self.assertNotIn(link.session_ref, invoice.message_ids[0].body)
        # The partner's Stripe customer was created once, on demand.
        self.assertEqual(
            len([r for r in self.standin.requests if r.path == "/v1/customers"]), 1
        )

    def test_jpy_has_no_minor_unit(self):
        invoice = self._stripe_invoice(1500, currency=self.jpy)
        self.assertEqual(self._click(invoice).status_code, 303)
        self._assert_session_request(invoice, 1500, "jpy")

    def test_kwd_has_three_decimals(self):
        # Prices carry 2 decimals by default: let the third one through.
        self.env.ref("product.decimal_price").digits = 3
        invoice = self._stripe_invoice(12.345, currency=self.kwd)
        self.assertEqual(self._click(invoice).status_code, 303)
        self._assert_session_request(invoice, 12345, "kwd")

    def test_second_click_reuses_session(self):
        invoice = self._stripe_invoice(50.0)
        first = self._click(invoice)
        second = self._click(invoice)
        self.assertEqual(second.status_code, 303)
        self.assertEqual(first.headers["Location"], second.headers["Location"])
        self.assertEqual(len(self._session_requests()), 1)
        self.assertEqual(invoice.paycrm_link_ids.open_count, 2)

    def test_session_near_expiry_is_replaced(self):
        invoice = self._stripe_invoice(50.0)
        self._click(invoice)
        old = invoice.paycrm_link_ids
        old.expires_at = old.expires_at.replace(year=2000)
        self.assertEqual(self._click(invoice).status_code, 303)
        self.assertEqual(len(self._session_requests()), 2)
        new = invoice.paycrm_link_ids - old
        self.assertEqual(new.attempt, 2)
        self.assertTrue(
            self._session_requests()[1].headers["Idempotency-Key"].endswith("-2")
        )

    def test_residual_change_creates_new_session(self):
        invoice = self._stripe_invoice(100.0)
        self._click(invoice)
        old = invoice.paycrm_link_ids
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 30.0})._create_payments()
        self.assertEqual(invoice.amount_residual, 70.0)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 303)
        new = invoice.paycrm_link_ids - old
        self.assertEqual(response.headers["Location"], new.url)
        self.assertEqual(new.amount_minor, 7000)
        unit = self._session_requests()[-1].params["line_items"][0]["price_data"]
        self.assertEqual(unit["unit_amount"], "7000")
        # The 100.00 session asks for a stale amount: queued for expiry.
        self.assertEqual(old.state, "closing")

    def test_parallel_clicks_make_one_session(self):
        invoice = self._stripe_invoice(80.0)
        self.standin.delay = 0.3
        self.addCleanup(setattr, self.standin, "delay", 0.0)
        results = []
        url = f"{self.base_url()}{self._path(invoice)}"
        # url_open flushes the shared test cursor: not from several threads.
        self.env.flush_all()

        def click():
            results.append(requests.get(url, allow_redirects=False, timeout=30))

        threads = [threading.Thread(target=click) for _i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual([r.status_code for r in results], [303] * 4)
        self.assertEqual(len({r.headers["Location"] for r in results}), 1)
        self.assertEqual(len(self._session_requests()), 1)
        self.assertEqual(len(invoice.paycrm_link_ids), 1)

    def test_paid_invoice_thanks_and_expires_sessions(self):
        invoice = self._stripe_invoice(60.0)
        self._click(invoice)
        link = invoice.paycrm_link_ids
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        response = self._click(invoice)
        self.assertEqual(response.status_code, 200)
        self.assertIn("is paid", response.text)
        self.assertEqual(len(self._session_requests()), 1)
        self.env["paycrm.link"]._cron_paycrm_expire_links()
        expire = self.standin.last(
            "POST", f"/v1/checkout/sessions/{link.session_ref}/expire"
        )
        self.assertTrue(expire)
        self.assertEqual(link.state, "expired")
        self.assertEqual(
            self.standin.get("checkout.session", link.session_ref)["status"], "expired"
        )
        self.assertIn("expired", invoice.message_ids[0].body)

    def test_expiry_is_retried_and_tolerates_completed_sessions(self):
        invoice = self._stripe_invoice(60.0)
        self._click(invoice)
        link = invoice.paycrm_link_ids
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(link.state, "closing")
        self.standin.fail_next(500, path_prefix="/v1/checkout/sessions/")
        self.env["paycrm.link"]._cron_paycrm_expire_links()
        self.assertEqual((link.state, link.expire_tries), ("closing", 1))
        self.assertIn("HTTP 500", link.last_error)
        # Meanwhile the customer paid it: Stripe refuses to expire, that is fine.
        self.standin.complete_session(link.session_ref)
        self.env["paycrm.link"]._cron_paycrm_expire_links()
        self.assertEqual(link.state, "expired")
        response = self._click(invoice)
        self.assertEqual(response.status_code, 200)
        self.assertIn("cancelled", response.text)

    def test_mark_paid_hook_for_webhooks(self):
        invoice = self._stripe_invoice(60.0)
        self._click(invoice)
        link = invoice.paycrm_link_ids
        found = self.env["paycrm.link"]._paycrm_mark_paid(
            link.session_ref, gateway=self.stripe_gateway
        )
        self.assertEqual(found, link)
        self.assertEqual(link.state, "paid")
        self.assertFalse(self.env["paycrm.link"]._paycrm_mark_paid("cs_unknown"))

    def test_partial_amount_url_is_signed(self):
        invoice = self._stripe_invoice(100.0)
        url = self.env["paycrm.link.url"]._paycrm_pay_url(invoice, amount=40.0)
        self.assertIn("amount=4000", url)
        split = urlsplit(url)
        path = f"{split.path}?{split.query}"
        response = self._click(invoice, path=path)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(invoice.paycrm_link_ids.amount_minor, 4000)
        tampered = path.replace("amount=4000", "amount=400")
        self.assertEqual(self._click(invoice, path=tampered).status_code, 404)
        self.assertEqual(len(invoice.paycrm_link_ids), 1)
