"""Money in flight on Stripe and PayPal: paid, not booked yet.

Stripe sends the customer back with the Checkout Session's id; the connector
asks Stripe what became of it, and a paid (or processing) session is money in
flight at once: the stable link asks only for the rest, or says the payment is
being confirmed. Booked or failed, the in-flight record ends.
"""

from urllib.parse import parse_qs, urlsplit

from odoo.tests import tagged

from .link_common import PaycrmLinkCase
from .paypal_common import PaypalFlowCase
from .webhook_common import WebhookCommon


@tagged("post_install", "-at_install")
class TestStripeInFlight(PaycrmLinkCase, WebhookCommon):
    def _checkout(self, invoice, path=None):
        """Click the link; the session it opened."""
        self.assertEqual(self._click(invoice, path=path).status_code, 303)
        return invoice.paycrm_link_ids.filtered(lambda link: link.state == "open")

    def _return(self, invoice, link):
        """Come back from Stripe as its success URL sends the customer."""
        create = self.standin.last("POST", "/v1/checkout/sessions")
        success = create.params["success_url"]
        query = parse_qs(urlsplit(success).query)
        self.assertEqual(query["session_id"], ["{CHECKOUT_SESSION_ID}"])
        path = f"{self._path(invoice, '/done')}?session_id={link.session_ref}"
        response = self._click(invoice, path=path)
        self.env.invalidate_all()
        return response

    def test_deposit_in_flight_asks_only_the_rest(self):
        invoice = self._stripe_invoice(100.0)
        url = self.env["paycrm.link.url"]._paycrm_pay_url(invoice, amount=40.0)
        split = urlsplit(url)
        deposit = self._checkout(invoice, path=f"{split.path}?{split.query}")
        self.assertEqual(deposit.amount, 40.0)
        self.standin.complete_session(deposit.session_ref)
        self.assertEqual(self._return(invoice, deposit).status_code, 303)
        self.assertEqual(deposit.state, "submitted")
        # Before the webhook: the link asks for the other 60.00, not 100.00.
        rest = self._checkout(invoice)
        self.assertEqual(rest.amount, 60.0)
        self.assertEqual(
            self.standin.get("checkout.session", rest.session_ref)["amount_total"], 6000
        )
        self.standin.complete_session(rest.session_ref)
        self._return(invoice, rest)
        # All of it in flight: nothing more is asked, the page says so.
        page = self._click(invoice)
        self.assertEqual(page.status_code, 200)
        self.assertIn("being confirmed", page.text)
        self.assertEqual(len(invoice.paycrm_link_ids), 2)

    def test_booked_payment_ends_in_flight(self):
        invoice = self._stripe_invoice(100.0)
        link = self._checkout(invoice)
        paid = self.standin.complete_session(link.session_ref)
        self._return(invoice, link)
        self.assertEqual(link.state, "submitted")
        event = self._send_stripe("checkout.session.completed", paid["session"])
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(link.state, "paid")
        self.assertEqual(self.env["paycrm.link"]._paycrm_in_flight(invoice), 0.0)
        self.assertIn("is paid", self._click(invoice).text)

    def test_failed_delayed_payment_ends_in_flight_and_asks_again(self):
        invoice = self._stripe_invoice(100.0)
        link = self._checkout(invoice)
        paid = self.standin.complete_session(link.session_ref)
        # A SEPA debit: the session completes, its payment is processing.
        paid["session"]["payment_status"] = "unpaid"
        self._return(invoice, link)
        self.assertEqual(link.state, "submitted")
        self.assertIn("being confirmed", self._click(invoice).text)
        failed = self._send_stripe(
            "checkout.session.async_payment_failed", paid["session"]
        )
        self.assertEqual(failed.state, "done", failed.last_error)
        self.assertEqual(link.state, "expired")
        # The money never came: the link opens a new checkout for all of it.
        fresh = self._checkout(invoice)
        self.assertEqual(fresh.amount, 100.0)
        self.assertNotEqual(fresh, link)

    def test_return_of_another_invoice_session_is_refused(self):
        invoice = self._stripe_invoice(100.0)
        other = self._stripe_invoice(50.0)
        link = self._checkout(other)
        self.standin.complete_session(link.session_ref)
        path = f"{self._path(invoice, '/done')}?session_id={link.session_ref}"
        response = self._click(invoice, path=path)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(link.state, "open")


@tagged("post_install", "-at_install")
class TestPaypalInFlight(PaypalFlowCase):
    def test_capture_under_review_then_denied_asks_again(self):
        invoice = self._pp_invoice(100.0)
        self.assertEqual(self._pp_click(invoice).status_code, 303)
        link = invoice.paycrm_link_ids
        self.paypal_standin.next_capture_status = "PENDING"
        self.paypal_standin.approve_order(link.session_ref)
        back = self._pp_return(invoice, link.session_ref)
        self.assertEqual(back.status_code, 200)
        self.assertIn("under review", back.text)
        self.assertEqual(link.state, "submitted")
        self.assertIn("being confirmed", self._click(invoice).text)
        capture_id = self._capture_of(link.session_ref)["id"]
        denied = self.paypal_standin.capture_event(capture_id, "PAYMENT.CAPTURE.DENIED")
        self.assertEqual(self._post_paypal(denied).status_code, 200)
        self._process()
        self.assertEqual(self._pp_event(denied).state, "done")
        self.assertEqual(link.state, "expired")
        self.assertFalse(self._pp_moves())
        # The money never came: a new order for all of it.
        self.assertEqual(self._pp_click(invoice).status_code, 303)
        fresh = invoice.paycrm_link_ids.filtered(lambda link: link.state == "open")
        self.assertEqual(fresh.amount, 100.0)
