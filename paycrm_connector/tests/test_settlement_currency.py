"""A EUR invoice paid on a Stripe account that settles in USD.

Stripe reports the charge's balance transaction (gross, fee, net) in the
account's settlement currency. The clearing journal is booked in that currency
with the value the gateway really moved; the invoice is settled in EUR and the
difference from its own rate goes to Odoo's exchange difference accounts; the
Tie-out compares in USD and finds nothing, then finds a real difference.
"""

from odoo.tests import tagged

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestSettlementCurrency(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 1 USD = 2 EUR in the books (so an invoice of 100 EUR is worth 50
        # USD); Stripe settles 1 EUR as 0.55 USD on the day it is paid.
        cls.eur = cls.setup_other_currency("EUR")
        cls.usd = cls.company.currency_id
        cls.gain_account = cls.company.income_currency_exchange_account_id
        cls.loss_account = cls.company.expense_currency_exchange_account_id

    def setUp(self):
        super().setUp()
        self.standin.settlement = "usd"
        self.standin.fx_rates = {"eur": 0.55}
        self.addCleanup(setattr, self.standin, "settlement", None)
        # The books roll back after each test; the gateway's ledger with them.
        self.standin.objects["balance_transaction"].clear()

    def _paid_eur(self, amount_minor):
        invoice = self._invoice(amount_minor / 100, currency=self.eur)
        paid = self._stripe_paid_session(invoice, amount_minor, currency="eur")
        event = self._send_stripe("checkout.session.completed", paid["session"])
        self.assertEqual(event.state, "done", event.last_error)
        return invoice, paid, event

    def _clearing_lines(self):
        return self.env["account.move.line"].search(
            [
                ("account_id", "=", self.clearing_stripe.id),
                ("parent_state", "=", "posted"),
            ]
        )

    @property
    def clearing_stripe(self):
        return self.stripe_gateway.journal_id.default_account_id

    def _exchange_lines(self, account):
        return self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )

    def test_fee_in_settlement_currency_and_exchange_difference(self):
        invoice, paid, event = self._paid_eur(10000)
        txn = paid["balance_transaction"]
        self.assertEqual(
            (txn["currency"], txn["amount"], txn["fee"]), ("usd", 5500, 190)
        )
        # The invoice is paid in its own currency.
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(invoice.paycrm_amount_received, 100.0)
        # The event keeps the gateway's own figures.
        self.assertEqual(event.currency_id, self.eur)
        self.assertEqual(event.settle_currency_id, self.usd)
        self.assertAlmostEqual(event.settle_amount, 55.0)
        self.assertAlmostEqual(event.settle_fee, 1.90)
        # The fee on the invoice is the same money, in EUR at the charge's rate.
        self.assertAlmostEqual(invoice.paycrm_fee_amount, 3.45)
        # Clearing: USD, what Stripe's balance gained (55.00 - 1.90).
        lines = event.move_id.line_ids
        clearing = lines.filtered(lambda line: line.account_id == self.clearing_stripe)
        self.assertEqual(clearing.currency_id, self.usd)
        self.assertAlmostEqual(sum(clearing.mapped("amount_currency")), 53.10)
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 53.10)
        fee = lines.filtered(
            lambda line: line.account_id == self.stripe_gateway.fee_account_id
        )
        self.assertEqual((fee.currency_id, fee.amount_currency), (self.usd, 1.90))
        # Receivable: 100 EUR, worth the 55 USD really received...
        receivable = lines.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.currency_id, self.eur)
        self.assertAlmostEqual(receivable.amount_currency, -100.0)
        self.assertAlmostEqual(receivable.balance, -55.0)
        # ...against an invoice booked at 50 USD: a 5 USD exchange gain.
        gain = self._exchange_lines(self.gain_account)
        self.assertAlmostEqual(-sum(gain.mapped("balance")), 5.0)
        self.assertTrue(invoice.line_ids.matched_credit_ids.exchange_move_id)

    def test_refund_at_its_own_rate_and_tieout_per_currency(self):
        invoice, paid, _event = self._paid_eur(10000)
        # A week later 1 EUR settles as 0.50 USD: the refund of 40 EUR takes
        # 20 USD from the balance.
        self.standin.fx_rates = {"eur": 0.50}
        refund = self.standin._create_refund(
            {"payment_intent": paid["payment_intent"]["id"], "amount": 4000}
        )
        booked = self._send_stripe("refund.created", refund)
        self.assertEqual(booked.state, "done", booked.last_error)
        self.assertEqual(booked.settle_currency_id, self.usd)
        self.assertAlmostEqual(booked.settle_amount, 20.0)
        self.assertAlmostEqual(booked.amount, 40.0)
        receivable = booked.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertAlmostEqual(receivable.amount_currency, 40.0)
        self.assertAlmostEqual(receivable.balance, 20.0)
        self.assertAlmostEqual(
            sum(self._clearing_lines().mapped("amount_currency")), 33.10
        )

        txns = list(self.standin.objects["balance_transaction"].values())
        self.standin.balance = {
            "object": "balance",
            "livemode": False,
            "available": [{"amount": sum(t["net"] for t in txns), "currency": "usd"}],
            "pending": [],
        }
        tieout = self.env["paycrm.tieout"].browse(
            self.stripe_gateway.action_paycrm_tieout()["res_id"]
        )
        self.assertEqual(tieout.currency_id, self.usd)
        self.assertAlmostEqual(tieout.gateway_balance, 33.10)
        self.assertAlmostEqual(tieout.clearing_balance, 33.10)
        self.assertFalse(tieout.line_ids, tieout.line_ids.mapped("note"))
        self.assertEqual(tieout.message, "Ties out.")

        # A real difference: Stripe moved money the books never heard of.
        self.standin.put(
            "balance_transaction",
            {
                "amount": -700,
                "currency": "usd",
                "fee": 0,
                "net": -700,
                "source": "adj_standin_fx",
                "type": "adjustment",
                "status": "available",
            },
        )
        self.standin.balance["available"][0]["amount"] -= 700
        tieout = self.env["paycrm.tieout"].browse(
            self.stripe_gateway.action_paycrm_tieout()["res_id"]
        )
        self.assertEqual(len(tieout.line_ids), 1)
        self.assertEqual(tieout.line_ids.reference, "adj_standin_fx")
        self.assertEqual(tieout.line_ids.note, "Not booked")
        self.assertEqual(tieout.line_ids.currency_id, self.usd)
        self.assertAlmostEqual(tieout.difference, -7.0)

    def test_lost_dispute_in_settlement_currency(self):
        invoice, paid, _event = self._paid_eur(10000)
        self.standin.fx_rates = {"eur": 0.60}
        txn = self.standin.put(
            "balance_transaction",
            {
                "amount": -6000,
                "currency": "usd",
                "fee": 1500,
                "net": -7500,
                "source": "dp_fx_lost",
                "type": "adjustment",
                "status": "available",
                "exchange_rate": 0.60,
            },
        )
        dispute = {
            "id": "dp_fx_lost",
            "object": "dispute",
            "amount": 10000,
            "currency": "eur",
            "charge": paid["charge"]["id"],
            "payment_intent": paid["payment_intent"]["id"],
            "metadata": {},
            "balance_transactions": [txn],
        }
        event = self._send_stripe(
            "charge.dispute.funds_withdrawn", dict(dispute, status="needs_response")
        )
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.settle_currency_id, self.usd)
        self.assertAlmostEqual(event.settle_amount, 60.0)
        self.assertAlmostEqual(event.settle_fee, 15.0)
        self.assertAlmostEqual(event.amount, 100.0)
        # What the customer owes is back on the invoice, in EUR.
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        self.assertAlmostEqual(
            sum(self._clearing_lines().mapped("amount_currency")), 53.10 - 75.0
        )
