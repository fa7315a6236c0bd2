"""The demo gateway's hosted page, through HTTP and in headless Chromium."""

import re
from urllib.parse import urlsplit

from odoo.tests import tagged
from odoo.tools import mute_logger

from .link_common import PaycrmLinkCase

CONTROLLER_LOGGER = "odoo.addons.paycrm_connector.controllers.portal"


@tagged("post_install", "-at_install")
class TestDemoCheckout(PaycrmLinkCase):
    def _open_demo_page(self, invoice, url=None):
        """Click ``invoice``'s stable link (or ``url``, a signed deposit link)
        and open the demo checkout it leads to."""
        response = (
            self.url_open(url, allow_redirects=False) if url else self._click(invoice)
        )
        self.assertEqual(response.status_code, 303)
        path = self._location_path(response)
        self.assertRegex(path, r"^/paycrm/demo/checkout/demo_cs_[0-9a-f]+$")
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return path, page, csrf

    def test_pay_stores_event_and_thanks(self):
        invoice = self._invoice(250.0)
        path, page, csrf = self._open_demo_page(invoice)
        self.assertIn(invoice.name, page.text)
        self.assertIn("250.00", page.text)
        self.assertIn("o_paycrm_demo_pay", page.text)
        self.assertIn("o_paycrm_demo_decline", page.text)
        response = self.url_open(
            f"{path}/submit",
            data={"csrf_token": csrf, "outcome": "pay"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(
            urlsplit(response.headers["Location"]).path, self._path(invoice, "/done")
        )
        # The submit stored the event through the intake's own store, in its
        # request; the processor (a cron, triggered on insert) books it.
        self.assertEqual(invoice.paycrm_link_ids.state, "submitted")
        event = self.env["paycrm.event"].search(
            [("event_type", "=", "payment.succeeded")]
        )
        self.assertEqual(event.state, "received")
        self.env["paycrm.event"]._paycrm_process_batch()
        self.assertEqual(event.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.paycrm_link_ids.state, "paid")
        self.assertEqual(invoice.paycrm_amount_received, 250.0)
        done = self.url_open(response.headers["Location"])
        self.assertEqual(done.status_code, 200)
        self.assertIn(f"Invoice {invoice.name} is paid", done.text)

    def test_deposit_thanks_with_what_is_still_due(self):
        invoice = self._invoice(250.0)
        url = self.env["paycrm.link.url"]._paycrm_pay_url(invoice, amount=100.0)
        path, _page, csrf = self._open_demo_page(invoice, url)
        submit = self.url_open(
            f"{path}/submit",
            data={"csrf_token": csrf, "outcome": "pay"},
            allow_redirects=False,
        )
        self.assertEqual(submit.status_code, 303)
        self.env["paycrm.event"]._paycrm_process_batch()
        self.assertEqual(invoice.payment_state, "partial")
        # Booked: no "being confirmed" (and no refresh) for the hour after.
        done = self.url_open(submit.headers["Location"])
        self.assertEqual(done.status_code, 200)
        self.assertNotIn("being confirmed", done.text)
        self.assertNotIn('http-equiv="refresh"', done.text)
        self.assertIn(f"for invoice {invoice.name} was received", done.text)
        self.assertRegex(done.text, r"payment of .{0,12}100\.00.{0,6} for invoice")
        self.assertRegex(done.text, r"150\.00.{0,6} is still due")

    def test_declined_card_offers_retry(self):
        invoice = self._invoice(80.0)
        path, _page, csrf = self._open_demo_page(invoice)
        with mute_logger(CONTROLLER_LOGGER):
            response = self.url_open(
                f"{path}/submit", data={"csrf_token": csrf, "outcome": "decline"}
            )
        self.assertEqual(response.status_code, 200)
        self.assertIn("declined", response.text)
        self.assertIn(path, response.text)
        self.assertEqual(invoice.paycrm_link_ids.state, "open")

    @mute_logger("odoo.http")
    def test_submit_without_csrf_is_refused(self):
        invoice = self._invoice(80.0)
        path, _page, _csrf = self._open_demo_page(invoice)
        response = self.url_open(f"{path}/submit", data={"outcome": "pay"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["paycrm.event"].search([]))
        self.assertEqual(invoice.paycrm_link_ids.state, "open")

    def test_expired_or_unknown_demo_session(self):
        invoice = self._invoice(80.0)
        path, _page, _csrf = self._open_demo_page(invoice)
        invoice.paycrm_link_ids.expires_at = "2000-01-01 00:00:00"
        response = self.url_open(path)
        self.assertEqual(response.status_code, 410)
        self.assertIn(self._path(invoice), response.text)
        self.assertEqual(
            self.url_open("/paycrm/demo/checkout/demo_cs_nope").status_code, 404
        )

    def test_portal_invoice_page_shows_pay_button(self):
        invoice = self._invoice(80.0)
        response = self.url_open(invoice.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_paycrm_portal_pay", response.text)
        self.assertIn(self._path(invoice), response.text)


@tagged("post_install", "-at_install")
class TestDemoCheckoutBrowser(PaycrmLinkCase):
    def test_customer_pays_in_chromium(self):
        """Open the emailed URL, pay on the demo page, land on the thank-you page."""
        invoice = self._invoice(42.0)
        browser, stop = self._browser()
        browser.navigate_to(f"{self.base_url()}{self._path(invoice)}", wait_stop=True)
        self.assertTrue(
            browser._wait_ready("!!document.querySelector('.o_paycrm_demo_pay')", 30)
        )
        amount = self._evaluate(
            browser, "document.querySelector('.o_paycrm_demo_amount').textContent"
        )
        self.assertIn("42.00", amount)
        # From the page, not the ORM: while the browser works, its requests share
        # this test's cursor, so the test itself keeps off the database.
        session_ref = self._evaluate(browser, "location.pathname").rsplit("/", 1)[1]
        self.assertTrue(session_ref.startswith("demo_cs_"))
        self._evaluate(browser, "document.querySelector('.o_paycrm_demo_pay').click()")
        self.assertTrue(
            browser._wait_ready(
                "location.pathname.endsWith('/done') && "
                "!!document.querySelector('.o_paycrm_title')",
                30,
            )
        )
        title = self._evaluate(
            browser, "document.querySelector('.o_paycrm_title').textContent"
        )
        stop()
        self.assertEqual(title.strip(), "Thank you")
        self.assertEqual(invoice.paycrm_link_ids.session_ref, session_ref)
