"""A dispute ends in the same state whatever order its events arrive in.

Stripe delivers a dispute's events (created, funds_withdrawn, updated,
funds_reinstated, closed) in any order and sometimes twice; the invoice's
Disputed flag follows the dispute's own status at its newest event and the
money moves once.
"""

import itertools

from odoo.tests import tagged

from .stripe_standin import _now
from .webhook_common import WebhookHttpCase

LOST = (
    ("charge.dispute.created", "needs_response", []),
    ("charge.dispute.funds_withdrawn", "needs_response", [(-10000, 1500)]),
    ("charge.dispute.updated", "under_review", [(-10000, 1500)]),
    ("charge.dispute.closed", "lost", [(-10000, 1500)]),
)
WON = (
    ("charge.dispute.created", "needs_response", []),
    ("charge.dispute.funds_withdrawn", "needs_response", [(-10000, 1500)]),
    ("charge.dispute.funds_reinstated", "won", [(-10000, 1500), (10000, -1500)]),
    ("charge.dispute.closed", "won", [(-10000, 1500), (10000, -1500)]),
)


@tagged("post_install", "-at_install")
class TestDisputeOrder(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Each delivery below runs the processor at once, ignoring back-off: a
        # reinstatement parked until its withdrawal arrives is retried far more
        # often than the real back-off would in the same time.
        cls.stripe_gateway.event_max_attempts = 50

    def _deliver(self, steps, order, dispute_id):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self._send_stripe("checkout.session.completed", paid["session"])
        clearing = self._clearing_balance(self.stripe_gateway)
        start = _now() - 100
        for index in order:
            event_type, status, transactions = steps[index]
            dispute = {
                "id": dispute_id,
                "object": "dispute",
                "amount": 10000,
                "currency": "usd",
                "charge": paid["charge"]["id"],
                "payment_intent": paid["payment_intent"]["id"],
                "status": status,
                "metadata": {},
                "balance_transactions": [
                    {"amount": amount, "fee": fee} for amount, fee in transactions
                ],
            }
            # The gateway's event time follows the dispute's life, not delivery.
            self._send_stripe(event_type, dispute, created=start + index)
        # A withdrawal parked before its reinstatement is retried: drain.
        self._process()
        return invoice, clearing - self._clearing_balance(self.stripe_gateway)

    def test_lost_dispute_every_order(self):
        for number, order in enumerate(itertools.permutations(range(len(LOST)))):
            with self.subTest(order=order):
                invoice, withdrawn = self._deliver(LOST, order, f"dp_lost_{number}")
                self.assertFalse(invoice.paycrm_disputed)
                # The amount and the dispute fee left clearing, once.
                self.assertAlmostEqual(withdrawn, 115.0)
                # The customer owes the charged-back amount on the invoice itself.
                self.assertEqual(invoice.payment_state, "not_paid")
                self.assertAlmostEqual(invoice.amount_residual, 100.0)
                self.assertEqual(invoice.paycrm_link_state, "active")
                self.assertIn("Dispute lost", invoice.activity_ids.mapped("summary"))
                self.assertFalse(
                    self.env["paycrm.reminder.planner"]._paycrm_skip_reason(
                        invoice, invoice.invoice_date_due, None
                    )
                )

    def test_won_dispute_every_order(self):
        for number, order in enumerate(itertools.permutations(range(len(WON)))):
            with self.subTest(order=order):
                invoice, withdrawn = self._deliver(WON, order, f"dp_won_{number}")
                self.assertFalse(invoice.paycrm_disputed)
                self.assertAlmostEqual(withdrawn, 0.0)
                self.assertIn(invoice.payment_state, ("paid", "in_payment"))
                self.assertAlmostEqual(invoice.amount_residual, 0.0)
                events = self.env["paycrm.event"].search(
                    [("object_ref", "=", f"dp_won_{number}")]
                )
                self.assertEqual(set(events.mapped("state")), {"done"})

    def test_open_dispute_stays_flagged_until_closed(self):
        invoice, withdrawn = self._deliver(LOST[:3], (2, 0, 1), "dp_open")
        self.assertTrue(invoice.paycrm_disputed)
        self.assertAlmostEqual(withdrawn, 115.0)
        # While disputed the amount is due again, but reminders skip it.
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        self.assertEqual(
            self.env["paycrm.reminder.planner"]._paycrm_skip_reason(
                invoice, invoice.invoice_date_due, None
            ),
            "Disputed at the gateway",
        )
