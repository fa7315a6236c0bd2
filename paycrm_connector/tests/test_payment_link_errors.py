"""Bad input on the stable pay URL: each answers a clear page, never a 500."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .link_common import PaycrmLinkCase

CONTROLLER_LOGGER = "odoo.addons.paycrm_connector.controllers.portal"


@tagged("post_install", "-at_install")
class TestPayUrlBadInput(PaycrmLinkCase):
    def _assert_no_session(self, invoice):
        self.assertFalse(self._session_requests())
        self.assertFalse(invoice.paycrm_link_ids)

    @mute_logger(CONTROLLER_LOGGER)
    def test_gateway_500_gives_503_with_retry(self):
        invoice = self._stripe_invoice(100.0)
        self.standin.fail_next(500, path_prefix="/v1/checkout/sessions")
        response = self._click(invoice)
        self.assertEqual(response.status_code, 503)
        self.assertIn("not answering right now", response.text)
        self.assertIn("o_paycrm_retry", response.text)
        self.assertNotIn("Traceback", response.text)
        # The failed attempt left no half-created session behind.
        self.assertEqual(self.standin.last("POST", "/v1/checkout").status, 500)
        self.assertFalse(invoice.paycrm_link_ids)
        self.assertIn("could not open the payment page", invoice.message_ids[0].body)
        # The retry button points at the stable URL, which now works.
        retry = self._click(invoice)
        self.assertEqual(retry.status_code, 303)
        self.assertEqual(len(invoice.paycrm_link_ids), 1)

    @mute_logger(CONTROLLER_LOGGER)
    def test_gateway_timeout_gives_503(self):
        invoice = self._stripe_invoice(100.0)
        self._click(invoice)  # the customer exists: the next call is the session
        invoice.paycrm_link_ids.expires_at = "2000-01-01 00:00:00"
        self.stripe_gateway.timeout = 0.3
        self.standin.delay = 1.0
        self.addCleanup(setattr, self.standin, "delay", 0.0)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 503)
        self.assertIn("timeout", invoice.message_ids[0].body)
        self.assertEqual(len(invoice.paycrm_link_ids), 1)

    @mute_logger(CONTROLLER_LOGGER)
    def test_refused_currency_is_a_clear_error(self):
        invoice = self._stripe_invoice(100.0, currency=self.kwd)
        self.standin.fail_next(400, path_prefix="/v1/checkout/sessions")
        response = self._click(invoice)
        self.assertEqual(response.status_code, 503)
        self.assertIn("not available for this invoice", response.text)
        self.assertNotIn("o_paycrm_retry", response.text)
        self.assertIn("gateway refused", invoice.message_ids[0].body)
        self.assertFalse(invoice.paycrm_link_ids)
        # Staff using the server action get a UserError that names the cause.
        self.standin.fail_next(400, path_prefix="/v1/checkout/sessions")
        with self.assertRaisesRegex(UserError, "could not open a checkout.*refused"):
            invoice._paycrm_action_create_link()
        self.assertFalse(invoice.paycrm_link_ids)

    def test_wrong_or_missing_token_is_404(self):
        invoice = self._stripe_invoice(100.0)
        other = self._stripe_invoice(100.0)
        for path in (
            f"/paycrm/pay/{invoice.id}/not-the-token",
            f"/paycrm/pay/{invoice.id}/{other.access_token}",
            f"/paycrm/pay/{invoice.id}/",
            f"/paycrm/pay/{invoice.id}",
            f"/paycrm/pay/999999999/{invoice.access_token}",
            f"/paycrm/pay/{invoice.id}/{invoice.access_token.upper()}",
        ):
            with self.subTest(path=path):
                self.assertEqual(self._click(invoice, path=path).status_code, 404)
        self._assert_no_session(invoice)

    def test_draft_and_credit_note_are_404(self):
        draft = self._invoice(post=False)
        draft._portal_ensure_token()
        self.assertEqual(self._click(draft).status_code, 404)
        refund = self.init_invoice("out_refund", amounts=[10.0], post=True)
        refund._portal_ensure_token()
        self.assertEqual(self._click(refund).status_code, 404)
        self.assertFalse(self.standin.requests)

    def test_other_company_never_uses_our_gateway(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        invoice = self.init_invoice(
            "out_invoice", partner=self.customer, amounts=[100.0], company=company_b
        )
        with self.assertRaises(UserError):
            invoice.write({"paycrm_gateway_id": self.stripe_gateway.id})
        invoice.action_post()
        self.assertFalse(invoice.paycrm_gateway_id)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 404)
        self.assertIn("cannot be paid online", response.text)
        self._assert_no_session(invoice)
        self.assertFalse(
            self.env["paycrm.link"].search([("company_id", "=", company_b.id)])
        )

    def test_zero_residual_gives_no_link(self):
        invoice = self._stripe_invoice(100.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        response = self._click(invoice)
        self.assertEqual(response.status_code, 200)
        self.assertIn("is paid", response.text)
        with self.assertRaisesRegex(UserError, "nothing left to pay"):
            invoice._paycrm_action_create_link()
        with self.assertRaisesRegex(UserError, "has no payment link"):
            self.env["paycrm.link.sender"]._paycrm_send_link(invoice)
        self._assert_no_session(invoice)

    def test_disabled_gateway_gives_clear_page(self):
        invoice = self._stripe_invoice(100.0)
        self.stripe_gateway.state = "disabled"
        response = self._click(invoice)
        self.assertEqual(response.status_code, 404)
        self.assertIn("cannot be paid online", response.text)
        self._assert_no_session(invoice)

    def test_cancel_page_offers_retry(self):
        invoice = self._stripe_invoice(100.0)
        response = self._click(invoice, "/cancel")
        self.assertEqual(response.status_code, 200)
        self.assertIn("was not completed", response.text)
        self.assertIn(self._path(invoice), response.text)
        # No payment went through: the return page leads to the stable link.
        done = self._click(invoice, "/done")
        self.assertEqual(done.status_code, 303)
        self.assertEqual(self._location_path(done), self._path(invoice))
        self.assertEqual(
            self._click(invoice, path="/paycrm/pay/1/x/done").status_code, 404
        )
