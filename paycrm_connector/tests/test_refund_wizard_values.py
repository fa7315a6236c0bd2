"""The refund wizard works the same with its invoice in the create values or
in the context (the invoice's button) (issue 21, item 5)."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .paypal_common import PaypalFlowCase


@tagged("post_install", "-at_install")
class TestRefundWizardValues(PaypalFlowCase):
    def _paid_invoice(self, amount):
        invoice = self._pp_invoice(amount)
        capture_id = self._pp_pay(invoice)
        self._post_paypal(self.paypal_standin.capture_event(capture_id))
        self._process()
        return invoice, capture_id

    def test_invoice_in_values_or_context_same_wizard(self):
        invoice, capture_id = self._paid_invoice(100.0)
        wizards = self.env["paycrm.refund"]
        in_values = wizards.create({"invoice_id": invoice.id})
        in_context = wizards.with_context(default_invoice_id=invoice.id).create({})
        payment = self.events.search(
            [("invoice_id", "=", invoice.id), ("booking_key", "=like", "pay:%")]
        )
        self.assertEqual(len(payment), 1)
        for wizard in (in_values, in_context):
            self.assertEqual(wizard.invoice_id, invoice)
            self.assertEqual(wizard.payment_event_id, payment)
            self.assertAlmostEqual(wizard.amount, 100.0)
            self.assertAlmostEqual(wizard.refundable, 100.0)
        # An amount in the values is kept; the refund goes to PayPal.
        partial = wizards.create({"invoice_id": invoice.id, "amount": 25.0})
        partial.action_paycrm_refund()
        request = self.paypal_standin.last("POST", "/v2/payments/captures/")
        self.assertEqual(request.path, f"/v2/payments/captures/{capture_id}/refund")
        self.assertEqual(request.json["amount"]["value"], "25.00")
        (refund_id,) = self.paypal_standin.refunds
        self._post_paypal(self.paypal_standin.refund_event(refund_id))
        self._process()
        self.assertAlmostEqual(invoice.paycrm_amount_received, 75.0)
        # Both ways, the next wizard proposes what the payment still holds.
        in_values = wizards.create({"invoice_id": invoice.id})
        in_context = wizards.with_context(default_invoice_id=invoice.id).create({})
        self.assertEqual((in_values.amount, in_context.amount), (75.0, 75.0))

    def test_invoice_without_gateway_payment_refused_both_ways(self):
        invoice = self._pp_invoice(40.0)
        wizards = self.env["paycrm.refund"]
        with self.assertRaisesRegex(UserError, "has no gateway payment to refund"):
            wizards.create({"invoice_id": invoice.id})
        with self.assertRaisesRegex(UserError, "has no gateway payment to refund"):
            wizards.with_context(default_invoice_id=invoice.id).create({})
