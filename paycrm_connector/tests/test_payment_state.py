"""Gateway money is booked as Odoo payments, so Odoo's own payment state is right.

A deposit paid through the gateway plus a credit note for the rest, or a credit
note settled by a gateway refund, read *Paid*: not *Reversed*, which is what
Odoo says of an invoice cancelled by a credit note alone.
"""

from urllib.parse import urlsplit

from odoo.tests import tagged

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestPaymentState(WebhookHttpCase):
    def _pay(self, invoice, minor, ref):
        event = self._demo_payment(invoice, minor, ref=ref)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        event = self._event(event["id"])
        self.assertEqual(event.state, "done", event.last_error)
        return event

    def _refund(self, invoice, payment_ref, ref, minor):
        event = self._demo_obj_event(
            "refund.succeeded", ref, payment_ref, minor, invoice
        )
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        event = self._event(event["id"])
        self.assertEqual(event.state, "done", event.last_error)
        return event

    def _credit_note(self, invoice, amount):
        credit_note = invoice._reverse_moves([{"ref": f"cn {invoice.name}"}])
        credit_note.invoice_line_ids[0].price_unit = amount
        credit_note.action_post()
        return credit_note

    def test_payment_is_an_odoo_payment(self):
        invoice = self._invoice(100.0)
        event = self._pay(invoice, 10000, "demo_pay_ps1")
        payment = event.move_id.origin_payment_id
        self.assertTrue(payment)
        self.assertEqual(payment.move_id, event.move_id)
        self.assertEqual(payment.payment_type, "inbound")
        self.assertEqual(payment.partner_id, invoice.commercial_partner_id)
        self.assertAlmostEqual(payment.amount, 100.0)
        self.assertEqual(payment.state, "paid")
        self.assertTrue(payment.is_matched)
        self.assertEqual(payment.journal_id, self.demo_gateway.journal_id)
        self.assertIn(invoice, payment.reconciled_invoice_ids)
        # The invoice's payment widget and smart button find it as Odoo's own.
        self.assertIn(payment, invoice._get_reconciled_payments())
        self.assertEqual(invoice.payment_state, "paid")

    def test_deposit_plus_credit_note_reads_paid(self):
        invoice = self._invoice(100.0)
        self._pay(invoice, 3000, "demo_pay_ps2")
        self.assertEqual(invoice.payment_state, "partial")
        credit_note = self._credit_note(invoice, 70.0)
        receivable = (invoice + credit_note).line_ids.filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and not line.reconciled
            )
        )
        receivable.reconcile()
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(credit_note.payment_state, "paid")
        # The stable link says paid, not cancelled.
        self.assertEqual(invoice.paycrm_link_state, "paid")
        response = self.url_open(
            urlsplit(self.env["paycrm.link.url"]._paycrm_pay_url(invoice)).path
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("cancelled", response.text)
        self.assertIn("is paid", response.text)

    def test_credit_note_settled_by_refund_reads_paid(self):
        invoice = self._invoice(100.0)
        pay = self._pay(invoice, 10000, "demo_pay_ps3")
        credit_note = self._credit_note(invoice, 40.0)
        refund = self._refund(invoice, pay.payment_ref, "demo_re_ps3", 4000)
        self.assertTrue(credit_note.currency_id.is_zero(credit_note.amount_residual))
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertEqual(invoice.payment_state, "paid")
        refund_payment = refund.move_id.origin_payment_id
        self.assertEqual(refund_payment.payment_type, "outbound")
        self.assertAlmostEqual(refund_payment.amount, 40.0)
        self.assertIn(credit_note, refund_payment.reconciled_invoice_ids)

    def test_full_credit_note_after_payment_then_full_refund(self):
        invoice = self._invoice(100.0)
        pay = self._pay(invoice, 10000, "demo_pay_ps4")
        credit_note = self._credit_note(invoice, 100.0)
        self._refund(invoice, pay.payment_ref, "demo_re_ps4", 10000)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertAlmostEqual(self.customer.credit, 0.0)

    def test_payout_and_fee_entries_are_no_payments(self):
        invoice = self._invoice(100.0)
        event = self._pay(invoice, 10000, "demo_pay_ps5")
        payout = self._demo_obj_event("payout.paid", "demo_po_ps5", "", 5000, invoice)
        self.assertEqual(self._post_demo(payout).status_code, 200)
        self._process()
        payout = self._event(payout["id"])
        self.assertEqual(payout.state, "done", payout.last_error)
        self.assertFalse(payout.move_id.origin_payment_id)
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("journal_id", "=", self.demo_gateway.journal_id.id)]
            ),
            1,
        )
        self.assertTrue(event.move_id.origin_payment_id)
