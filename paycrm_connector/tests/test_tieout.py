"""The Tie-out lists only real differences between the books and Stripe.

Each balance transaction is matched to the booking of its own object and
direction (payment, refund, dispute withdrawal, reinstatement), so refunds and
disputes no longer shadow the payment they touch.
"""

from odoo.tests import tagged

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestTieout(WebhookHttpCase):
    def _paid(self, amount_minor):
        invoice = self._invoice(amount_minor / 100)
        paid = self._stripe_paid_session(invoice, amount_minor)
        event = self._send_stripe("checkout.session.completed", paid["session"])
        self.assertEqual(event.state, "done", event.last_error)
        return paid

    def _dispute(self, paid, dispute_id, steps):
        dispute = {
            "id": dispute_id,
            "object": "dispute",
            "amount": paid["session"]["amount_total"],
            "currency": "usd",
            "charge": paid["charge"]["id"],
            "payment_intent": paid["payment_intent"]["id"],
            "metadata": {},
            "balance_transactions": [],
        }
        for event_type, status, txn in steps:
            if txn:
                amount, fee = txn
                dispute["balance_transactions"].append(
                    self.standin.put(
                        "balance_transaction",
                        {
                            "amount": amount,
                            "currency": "usd",
                            "fee": fee,
                            "net": amount - fee,
                            "source": dispute_id,
                            "type": "adjustment",
                            "status": "available",
                        },
                    )
                )
            event = self._send_stripe(event_type, dict(dispute, status=status))
            self.assertEqual(event.state, "done", event.last_error)

    def _tieout(self):
        txns = self.standin.objects["balance_transaction"].values()
        self.standin.balance = {
            "object": "balance",
            "livemode": False,
            "available": [{"amount": sum(t["net"] for t in txns), "currency": "usd"}],
            "pending": [],
        }
        action = self.stripe_gateway.action_paycrm_tieout()
        return self.env["paycrm.tieout"].browse(action["res_id"])

    def test_refunds_disputes_payout_tie_out_and_a_real_difference_is_found(self):
        refunded = self._paid(10000)
        refund = self.standin._create_refund(
            {"payment_intent": refunded["payment_intent"]["id"], "amount": 3000}
        )
        self.assertEqual(self._send_stripe("refund.created", refund).state, "done")
        lost = self._paid(20000)
        self._dispute(
            lost,
            "dp_tie_lost",
            [
                ("charge.dispute.created", "needs_response", None),
                ("charge.dispute.funds_withdrawn", "needs_response", (-20000, 1500)),
                ("charge.dispute.closed", "lost", None),
            ],
        )
        won = self._paid(5000)
        self._dispute(
            won,
            "dp_tie_won",
            [
                ("charge.dispute.funds_withdrawn", "needs_response", (-5000, 1500)),
                ("charge.dispute.funds_reinstated", "won", (5000, -1500)),
                ("charge.dispute.closed", "won", None),
            ],
        )
        wizard = self._tieout()
        self.assertTrue(wizard.gateway_known)
        self.assertAlmostEqual(wizard.difference, 0.0)
        self.assertFalse(
            wizard.line_ids,
            wizard.line_ids.mapped(lambda line: (line.reference, line.kind, line.note)),
        )
        self.assertEqual(wizard.message, "Ties out.")

        # A charge the books never saw: listed alone, for its net.
        self.standin.put(
            "balance_transaction",
            {
                "amount": 5000,
                "currency": "usd",
                "fee": 175,
                "net": 4825,
                "source": "ch_never_booked",
                "type": "charge",
                "status": "available",
            },
        )
        wizard = self._tieout()
        self.assertAlmostEqual(wizard.difference, 48.25)
        self.assertEqual(wizard.line_ids.mapped("reference"), ["ch_never_booked"])
        self.assertEqual(wizard.line_ids.note, "Not booked")

        # Paid out: the clearing account and the gateway balance are both empty.
        net = round(wizard.gateway_balance * 100) - 4825
        payout = {"id": "po_tie", "object": "payout", "amount": net}
        payout |= {"currency": "usd", "status": "paid", "metadata": {}}
        self.assertEqual(self._send_stripe("payout.paid", payout).state, "done")
        self.assertAlmostEqual(self._clearing_balance(self.stripe_gateway), 0.0)
