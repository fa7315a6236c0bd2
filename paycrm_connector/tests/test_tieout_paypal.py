"""The Tie-out for PayPal: the clearing journal against PayPal's own record
(Transaction Search and balances), each movement matched to the booking of
its own object, only real differences listed (issue 21, item 4)."""

from odoo.tests import tagged

from .paypal_common import PaypalFlowCase


@tagged("post_install", "-at_install")
class TestTieoutPaypal(PaypalFlowCase):
    def _tieout(self):
        action = self.paypal_gateway.action_paycrm_tieout()
        return self.env["paycrm.tieout"].browse(action["res_id"])

    def _book_capture(self, capture_id):
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()

    def _assert_ties_out(self):
        wizard = self._tieout()
        self.assertTrue(wizard.gateway_known, wizard.message)
        self.assertFalse(
            wizard.line_ids,
            wizard.line_ids.mapped(lambda line: (line.reference, line.kind, line.note)),
        )
        self.assertAlmostEqual(wizard.difference, 0.0)
        self.assertAlmostEqual(
            wizard.clearing_balance, self._clearing_balance(self.paypal_gateway)
        )
        self.assertEqual(wizard.message, "Ties out.")
        return wizard

    def test_captures_and_refund_tie_out_and_a_lost_webhook_is_found(self):
        invoices = [self._pp_invoice(amount) for amount in (100.0, 45.5)]
        for invoice in invoices:
            self._book_capture(self._pp_pay(invoice))
        refund = self.env["paycrm.refund"].create(
            {"invoice_id": invoices[0].id, "amount": 40.0}
        )
        refund.action_paycrm_refund()
        (refund_id,) = self.paypal_standin.refunds
        self._post_paypal(self.paypal_standin.refund_event(refund_id))
        self._process()
        self.assertAlmostEqual(invoices[0].paycrm_amount_received, 60.0)

        wizard = self._assert_ties_out()
        # PayPal's available balance: 100 - 3.98 + 45.50 - 2.08 - (40 - 1.40).
        self.assertAlmostEqual(wizard.gateway_balance, 100.84)
        searches = self.paypal_standin.calls("GET", "/v1/reporting/transactions")
        self.assertTrue(searches)
        self.assertIn("fields=all", searches[-1].query)

        # A customer pays, PayPal's webhook never arrives: the capture is the
        # one difference, for its net (30.00 less a 1.54 fee).
        lost = self._pp_pay(self._pp_invoice(30.0))
        wizard = self._tieout()
        self.assertAlmostEqual(wizard.difference, 28.46)
        self.assertEqual(wizard.message, "Differences found: see the lines below.")
        self.assertEqual(len(wizard.line_ids), 1)
        line = wizard.line_ids
        self.assertEqual(
            (line.reference, line.kind, line.note), (lost, "payment", "Not booked")
        )
        self.assertAlmostEqual(line.gateway_amount, 28.46)

        # Booked once its webhook comes: the books tie out again.
        self._book_capture(lost)
        self._assert_ties_out()

    def test_amount_booked_differently_is_listed_against_its_event(self):
        invoice = self._pp_invoice(60.0)
        capture_id = self._pp_pay(invoice)
        self._book_capture(capture_id)
        self._assert_ties_out()
        # PayPal's record says another fee than the one booked (a fee the
        # webhook reported wrongly): listed on the payment's own event.
        capture = self.paypal_standin.captures[capture_id]
        capture["seller_receivable_breakdown"]["paypal_fee"]["value"] = "3.00"
        wizard = self._tieout()
        line = wizard.line_ids
        self.assertEqual((line.reference, line.note), (capture_id, "Amounts differ"))
        booked = self.events.search(
            [
                ("gateway_id", "=", self.paypal_gateway.id),
                ("booking_key", "=", f"pay:{capture_id}"),
            ]
        )
        self.assertEqual(line.event_id, booked)
        self.assertAlmostEqual(line.gateway_amount, 57.0)
        self.assertAlmostEqual(line.booked_amount, 60.0 - 2.58)
