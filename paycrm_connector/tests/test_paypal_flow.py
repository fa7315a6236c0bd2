"""PayPal on the stable pay URL: order, approval, capture on return, webhook."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .paypal_common import PaypalFlowCase

PORTAL_LOGGER = "odoo.addons.paycrm_connector.controllers.portal"
RETURN_LOGGER = "odoo.addons.paycrm_connector.controllers.pay_choice"


@tagged("post_install", "-at_install")
class TestPaypalFlow(PaypalFlowCase):
    def test_end_to_end_link_capture_webhook_reconciled(self):
        invoice = self._pp_invoice(123.45)
        response = self._pp_click(invoice)
        self.assertEqual(response.status_code, 303)
        link = invoice.paycrm_link_ids
        self.assertEqual(
            (link.gateway_id, link.amount_minor), (self.paypal_gateway, 12345)
        )
        self.assertEqual(
            response.headers["Location"],
            f"https://www.sandbox.paypal.com/checkoutnow?token={link.session_ref}",
        )
        create = self.paypal_standin.last("POST", "/v2/checkout/orders")
        unit = create.json["purchase_units"][0]
        self.assertEqual(unit["amount"], {"currency_code": "USD", "value": "123.45"})
        self.assertIn(f"inv={invoice.id}", unit["custom_id"])
        self.assertIn(f"link={link.id}", unit["custom_id"])
        self.assertTrue(create.headers["PayPal-Request-Id"].startswith("paycrm-link-"))
        # The payer approves on PayPal's page and comes back: captured now...
        self.paypal_standin.approve_order(link.session_ref)
        back = self._pp_return(invoice, link.session_ref)
        self.assertEqual(back.status_code, 303)
        self.assertEqual(self._location_path(back), self._path(invoice, "/done"))
        self.assertEqual(len(self.paypal_standin.captures), 1)
        self.assertIn("booked when the gateway confirms", invoice.message_ids[0].body)
        # ...but booked only by the webhook: nothing posted yet.
        self.assertFalse(self._pp_moves())
        self.assertEqual(invoice.payment_state, "not_paid")
        page = self._click(invoice, "/done")
        self.assertIn("being confirmed", page.text)
        # A reload of the return URL captures nothing twice (idempotent).
        self.assertEqual(self._pp_return(invoice, link.session_ref).status_code, 303)
        self.assertEqual(len(self.paypal_standin.captures), 1)
        capture_id = self._capture_of(link.session_ref)["id"]
        event = self.paypal_standin.capture_event(capture_id)
        answer = self._post_paypal(event)
        self.assertEqual((answer.status_code, answer.text), (200, "ok"))
        stored = self._pp_event(event)
        self.assertEqual(
            (stored.kind, stored.state, stored.verified, stored.event_type),
            ("payment_succeeded", "received", True, "PAYMENT.CAPTURE.COMPLETED"),
        )
        self.assertEqual(self._post_paypal(event).text, "duplicate")
        self._process()
        self.assertEqual(stored.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(link.state, "paid")
        # Fee: 3.49 % of 123.45 + 0.49 = 4.80 (the stand-in's tariff).
        self.assertAlmostEqual(invoice.paycrm_fee_amount, 4.80)
        self.assertAlmostEqual(self._clearing_balance(self.paypal_gateway), 118.65)
        self.assertEqual(len(self._pp_moves()), 1)
        self.assertEqual(invoice.paycrm_gateway_ref, capture_id)
        self.assertIn("Thank you", self._click(invoice).text)

    def test_choice_page_when_card_and_paypal_enabled(self):
        invoice = self._pp_invoice(50.0)
        page = self._click(invoice)
        self.assertEqual(page.status_code, 200)
        self.assertIn("How would you like to pay?", page.text)
        self.assertIn("Pay with PayPal", page.text)
        self.assertIn("Pay by card", page.text)
        self.assertFalse(self.paypal_standin.requests)
        card = self._click(
            invoice, path=f"{self._path(invoice)}?gateway={self.demo_gateway.id}"
        )
        self.assertEqual(card.status_code, 303)
        self.assertIn("/paycrm/demo/checkout/", card.headers["Location"])
        self.assertEqual(self._pp_click(invoice).status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(
            set(invoice.paycrm_link_ids.gateway_id.mapped("provider")),
            {"demo", "paypal"},
        )
        # A gateway the invoice may not use is not offered behind the customer's back.
        other = self.stripe_gateway.copy({"name": "Other", "state": "disabled"})
        bad = self._click(invoice, path=f"{self._path(invoice)}?gateway={other.id}")
        self.assertEqual(bad.status_code, 404)

    def test_single_gateway_needs_no_choice(self):
        self.demo_gateway.state = self.stripe_gateway.state = "disabled"
        invoice = self._pp_invoice(50.0)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 303)
        self.assertIn("sandbox.paypal.com", response.headers["Location"])

    @mute_logger(PORTAL_LOGGER)
    def test_bad_credentials_on_click(self):
        self.paypal_gateway.secret_key = "rotated_elsewhere"
        invoice = self._pp_invoice(50.0)
        response = self._pp_click(invoice)
        self.assertEqual(response.status_code, 503)
        self.assertIn("not available for this invoice", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertIn("authentication failed", invoice.message_ids[0].body)
        self.assertFalse(invoice.paycrm_link_ids)

    @mute_logger(PORTAL_LOGGER)
    def test_currency_paypal_lacks(self):
        invoice = self._pp_invoice(50.0, currency=self.kwd)
        response = self._pp_click(invoice)
        self.assertEqual(response.status_code, 503)
        self.assertIn("PayPal does not accept KWD", invoice.message_ids[0].body)
        self.assertFalse(self.paypal_standin.requests)
        self.assertFalse(invoice.paycrm_link_ids)

    def test_token_expiry_mid_session(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        order_id = invoice.paycrm_link_ids.session_ref
        self.paypal_standin.approve_order(order_id)
        self.paypal_standin.expire_tokens()
        self.assertEqual(self._pp_return(invoice, order_id).status_code, 303)
        self.assertEqual(len(self.paypal_standin.captures), 1)
        self.assertEqual(len(self.paypal_standin.calls("POST", "/v1/oauth2/token")), 2)

    def test_not_approved_then_declined_then_captured(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        link = invoice.paycrm_link_ids
        back = self._pp_return(invoice, link.session_ref)
        self.assertEqual(back.status_code, 303)
        self.assertTrue(
            back.headers["Location"].endswith(
                f"{self._path(invoice)}?gateway={self.paypal_gateway.id}"
            )
        )
        self.paypal_standin.approve_order(link.session_ref)
        self.paypal_standin.next_capture_status = "DECLINED"
        back = self._pp_return(invoice, link.session_ref)
        self.assertEqual(back.headers["Location"], link.url)
        self.paypal_standin.next_capture_status = "COMPLETED"
        self.assertEqual(self._pp_return(invoice, link.session_ref).status_code, 303)
        self.assertEqual(len(self.paypal_standin.captures), 1)
        keys = [
            r.headers["PayPal-Request-Id"]
            for r in self.paypal_standin.calls("POST", "/v2/checkout/orders/")
        ]
        self.assertEqual(len(set(keys)), 3, "each refused capture gets a fresh key")

    def test_capture_of_already_captured_order(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        order_id = invoice.paycrm_link_ids.session_ref
        self.paypal_standin.approve_order(order_id)
        # Captured elsewhere first (another tab, another key).
        self.paypal_gateway._paycrm_adapter().capture_order(order_id, "elsewhere")
        back = self._pp_return(invoice, order_id)
        self.assertEqual(self._location_path(back), self._path(invoice, "/done"))
        self.assertEqual(len(self.paypal_standin.captures), 1)

    def test_unknown_order_on_return(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        other = self._pp_invoice(10.0)
        self._pp_click(other)
        self.paypal_standin.requests.clear()
        for token in ("NOSUCHORDER", other.paycrm_link_ids.session_ref):
            response = self._pp_return(invoice, token)
            self.assertEqual(response.status_code, 404)
            self.assertIn("Payment not found", response.text)
        self.assertFalse(self.paypal_standin.requests)
        self.assertFalse(self.paypal_standin.captures)

    @mute_logger(RETURN_LOGGER)
    def test_paypal_down_on_return_says_try_again(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        order_id = invoice.paycrm_link_ids.session_ref
        self.paypal_standin.approve_order(order_id)
        self.paypal_standin.fail_next(503, path_prefix="/v2/checkout/orders/")
        response = self._pp_return(invoice, order_id)
        self.assertEqual(response.status_code, 503)
        self.assertIn("try again", response.text)
        self.assertIn("o_paycrm_retry", response.text)
        self.assertFalse(self.paypal_standin.captures)
        self.assertEqual(self._pp_return(invoice, order_id).status_code, 303)
        self.assertEqual(len(self.paypal_standin.captures), 1)

    def test_capture_amount_differs_from_link(self):
        invoice = self._pp_invoice(80.0)
        self._pp_click(invoice)
        order_id = invoice.paycrm_link_ids.session_ref
        order = self.paypal_standin.approve_order(order_id)
        order["purchase_units"][0]["amount"]["value"] = "8.00"
        response = self._pp_return(invoice, order_id)
        self.assertEqual(response.status_code, 200)
        self.assertIn("being reviewed", response.text)
        self.assertIn(
            "took $&nbsp;8.00 where the checkout asked for $&nbsp;80.00",
            invoice.message_ids[0].body,
        )
        self.assertFalse(self._pp_moves())
