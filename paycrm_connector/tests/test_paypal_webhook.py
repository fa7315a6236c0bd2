"""PayPal webhooks onto accounting: verification outages, mismatches, refunds."""

import copy

from odoo.tests import tagged
from odoo.tools import mute_logger

from .paypal_common import PaypalFlowCase

WEBHOOK_LOGGER = "odoo.addons.paycrm_connector.controllers.webhook"
VERIFY = "/v1/notifications/verify-webhook-signature"


@tagged("post_install", "-at_install")
class TestPaypalWebhook(PaypalFlowCase):
    def test_bad_signature_400_nothing_stored(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        self.paypal_standin.valid_signatures = False
        with mute_logger(WEBHOOK_LOGGER):
            answer = self._post_paypal(event)
        self.assertEqual(answer.status_code, 400)
        self.assertFalse(self._pp_event(event))
        self.assertEqual(self.paypal_gateway.bad_signature_count, 1)

    @mute_logger(WEBHOOK_LOGGER)
    def test_verification_down_stored_then_verified_and_booked(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        # Down at delivery and at the first processing run.
        self.paypal_standin.fail_next(503, count=2, path_prefix=VERIFY)
        answer = self._post_paypal(event)
        self.assertEqual((answer.status_code, answer.text), (200, "ok"))
        stored = self._pp_event(event)
        self.assertEqual((stored.state, stored.verified), ("received", False))
        self.assertIn("PAYPAL-TRANSMISSION-SIG", stored.transmission_headers.upper())
        self.events._paycrm_process_batch(10, force=True)
        self.env.invalidate_all()
        self.assertEqual((stored.state, stored.attempts), ("received", 1))
        self.assertIn("Not verified yet", stored.last_error)
        self.assertFalse(self._pp_moves())
        self.assertEqual(invoice.payment_state, "not_paid")
        self._process()
        self.assertEqual((stored.state, stored.verified), ("done", True))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(self._pp_moves()), 1)

    @mute_logger(WEBHOOK_LOGGER)
    def test_unverified_event_paypal_disowns_is_never_booked(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        self.paypal_standin.fail_next(503, count=1, path_prefix=VERIFY)
        self._post_paypal(event)
        self.paypal_standin.valid_signatures = False
        self._process()
        stored = self._pp_event(event)
        self.assertEqual((stored.state, stored.verified), ("failed", False))
        self.assertIn("did not confirm", stored.last_error)
        stored.action_paycrm_reprocess()  # still asked again, still refused
        self.assertEqual(stored.state, "failed")
        self.assertFalse(self._pp_moves())
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_currency_or_amount_mismatch_unmatched(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        wrong_currency = copy.deepcopy(event)
        wrong_currency["id"] += "-cur"
        wrong_currency["resource"]["amount"]["currency_code"] = "EUR"
        too_much = copy.deepcopy(event)
        too_much["id"] += "-amt"
        too_much["resource"]["amount"]["value"] = "600.00"
        for bad, message in ((wrong_currency, "Currency EUR"), (too_much, "Amount")):
            self.assertEqual(self._post_paypal(bad).status_code, 200)
            self._process()
            stored = self._pp_event(bad)
            self.assertEqual(stored.state, "unmatched")
            self.assertIn(message, stored.last_error)
        self.assertFalse(self._pp_moves())
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_capture_for_unknown_invoice_unmatched(self):
        invoice = self._pp_invoice(60.0)
        event = self.paypal_standin.capture_event(self._pp_pay(invoice))
        event["resource"]["custom_id"] = "inv=999999999&db=" + self.env.cr.dbname
        self._post_paypal(event)
        self._process()
        self.assertEqual(self._pp_event(event).state, "unmatched")
        self.assertFalse(self._pp_moves())

    def test_refund_from_invoice_booked_by_its_webhook(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        fee = invoice.paycrm_fee_amount  # 3.49 + 0.49
        self.assertAlmostEqual(fee, 3.98)
        wizard = (
            self.env["paycrm.refund"]
            .with_context(default_invoice_id=invoice.id)
            .create({"amount": 40.0})
        )
        wizard.action_paycrm_refund()
        request = self.paypal_standin.last("POST", "/v2/payments/captures/")
        self.assertEqual(request.path, f"/v2/payments/captures/{capture_id}/refund")
        self.assertEqual(
            request.json["amount"], {"currency_code": "USD", "value": "40.00"}
        )
        self.assertEqual(request.headers["PayPal-Request-Id"], wizard.idempotency_key)
        (refund_id,) = self.paypal_standin.refunds
        self.assertIn(refund_id, invoice.message_ids[0].body)
        # Nothing booked until PayPal's webhook confirms the refund.
        self.assertAlmostEqual(invoice.paycrm_amount_received, 100.0)
        event = self.paypal_standin.refund_event(refund_id)
        self._post_paypal(event)
        self._post_paypal(event)  # redelivered
        self._process()
        stored = self._pp_event(event)
        self.assertEqual((stored.kind, stored.state), ("refund_succeeded", "done"))
        self.assertAlmostEqual(invoice.paycrm_amount_received, 60.0)
        # 3.49 % of 40.00 = 1.40 of the fee came back with the refund.
        self.assertAlmostEqual(invoice.paycrm_fee_amount, fee - 1.40)
        # Clearing = PayPal balance: (100 - 3.98) - (40 - 1.40).
        self.assertAlmostEqual(self._clearing_balance(self.paypal_gateway), 57.42)
        self.assertEqual(len(self._pp_moves()), 3)  # payment, refund, fee back
        self.assertAlmostEqual(self.customer.credit, 40.0)

    def test_reversal_takes_the_money_back_and_reopens_the_invoice(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        clearing = self._clearing_balance(self.paypal_gateway)
        # PayPal reverses the capture (a chargeback): a refund-shaped resource.
        refund = self.paypal_gateway._paycrm_adapter().refund_capture(
            capture_id, 10000, "USD", "chargeback"
        )
        event = self.paypal_standin.refund_event(
            refund.refund_id, event_type="PAYMENT.CAPTURE.REVERSED"
        )
        self._post_paypal(event)
        self._post_paypal(event)  # redelivered
        self._process()
        stored = self._pp_event(event)
        self.assertEqual(
            (stored.kind, stored.state), ("dispute_funds_withdrawn", "done")
        )
        self.assertTrue(stored.move_id)
        self.assertAlmostEqual(
            clearing - self._clearing_balance(self.paypal_gateway), 100.0
        )
        # Due again on the invoice; a reversal is final, so not flagged disputed.
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        self.assertFalse(invoice.paycrm_disputed)

    def _pp_dispute(self, capture_id, event_type, outcome="", dispute_id="PP-D-1"):
        event = self.paypal_standin.dispute_event(
            capture_id, event_type, outcome, dispute_id=dispute_id
        )
        self.assertEqual(self._post_paypal(event).status_code, 200)
        self._process()
        stored = self._pp_event(event)
        self.assertEqual(stored.state, "done", stored.last_error)
        return stored

    def _pp_reverse(self, capture_id, minor):
        refund = self.paypal_gateway._paycrm_adapter().refund_capture(
            capture_id, minor, "USD", "chargeback"
        )
        event = self.paypal_standin.refund_event(
            refund.refund_id, event_type="PAYMENT.CAPTURE.REVERSED"
        )
        self._post_paypal(event)
        self._process()
        return self._pp_event(event)

    def test_lost_dispute_takes_the_money_back_once(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        clearing = self._clearing_balance(self.paypal_gateway)
        opened = self._pp_dispute(capture_id, "CUSTOMER.DISPUTE.CREATED")
        self.assertFalse(opened.move_id, "a dispute opening moves no money")
        self.assertTrue(invoice.paycrm_disputed)
        lost = self._pp_dispute(
            capture_id, "CUSTOMER.DISPUTE.RESOLVED", "RESOLVED_BUYER_FAVOUR"
        )
        self.assertTrue(lost.move_id)
        self.assertAlmostEqual(
            clearing - self._clearing_balance(self.paypal_gateway), 100.0
        )
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        self.assertFalse(invoice.paycrm_disputed)
        self.assertIn("Dispute lost", invoice.activity_ids.mapped("summary"))
        # PayPal also reverses the capture: the money left once.
        reversal = self._pp_reverse(capture_id, 10000)
        self.assertEqual(reversal.state, "done")
        self.assertFalse(reversal.move_id)
        self.assertAlmostEqual(
            clearing - self._clearing_balance(self.paypal_gateway), 100.0
        )

    def test_dispute_won_after_reversal_restores(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        clearing = self._clearing_balance(self.paypal_gateway)
        self.assertTrue(self._pp_reverse(capture_id, 10000).move_id)
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        won = self._pp_dispute(
            capture_id, "CUSTOMER.DISPUTE.RESOLVED", "RESOLVED_SELLER_FAVOUR"
        )
        self.assertTrue(won.move_id)
        self.assertAlmostEqual(self._clearing_balance(self.paypal_gateway), clearing)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(invoice.paycrm_disputed)

    def test_dispute_won_without_money_taken_books_nothing(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        clearing = self._clearing_balance(self.paypal_gateway)
        self._pp_dispute(capture_id, "CUSTOMER.DISPUTE.CREATED")
        won = self._pp_dispute(
            capture_id, "CUSTOMER.DISPUTE.RESOLVED", "RESOLVED_SELLER_FAVOUR"
        )
        self.assertFalse(won.move_id)
        self.assertAlmostEqual(self._clearing_balance(self.paypal_gateway), clearing)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(invoice.paycrm_disputed)

    def test_refund_before_payment_waits_for_it(self):
        invoice = self._pp_invoice(100.0)
        capture_id = self._pp_pay(invoice)
        refund = self.paypal_gateway._paycrm_adapter().refund_capture(
            capture_id, 2500, "USD", "early"
        )
        refund_event = self.paypal_standin.refund_event(refund.refund_id)
        self._post_paypal(refund_event)
        self.events._paycrm_process_batch(10, force=True)
        self.env.invalidate_all()
        self.assertEqual(self._pp_event(refund_event).state, "received")
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        self.assertEqual(self._pp_event(refund_event).state, "done")
        self.assertAlmostEqual(invoice.paycrm_amount_received, 75.0)
