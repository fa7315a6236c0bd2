"""Promises 2-4 over random orders and redeliveries of events (hypothesis).

Each example pays a few invoices, in the company's currency or in EUR on an
account that settles in the company's currency, refunds some, disputes some
(left open, won or lost), and delivers every event in a random order with
random redeliveries. Whatever the order, the books end the same: each event
applied once, the invoices owing what the gateway says, the clearing account
holding what the gateway's balance holds, and the customer's ledger adding up.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from ..gateways.demo import demo_fee
from .webhook_common import WebhookCommon

N_INVOICES = 3
# One EUR settles as this much of the company's currency on the gateway
# (the books' own rate is 0.5: setup_other_currency's 2 EUR per USD).
SETTLE_RATE = 0.55
DISPUTE_FEE = 1500


def _half_up(value):
    """Round as Odoo's currencies do (half away from zero)."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _plans():
    """Per invoice: currency, paid and refunded (minor), dispute outcome."""
    invoice = st.tuples(
        st.sampled_from(["company", "EUR"]),
        st.integers(min_value=1, max_value=10000),
        st.sampled_from([None, "open", "won", "lost"]),
    ).flatmap(
        lambda drawn: st.tuples(
            st.just(drawn[0]),
            st.just(drawn[1]),
            # A disputed charge is not refunded as well (Stripe refuses it).
            st.just(0) if drawn[2] else st.integers(0, drawn[1]),
            st.just(drawn[2]),
        )
    )
    return st.lists(invoice, min_size=N_INVOICES, max_size=N_INVOICES)


@tagged("post_install", "-at_install")
class TestWebhookProperty(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")

    @settings(
        max_examples=8,
        deadline=None,
        # Shrinking replays dozens of examples through the ORM: report the
        # first failure as found instead.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(plans=_plans(), data=st.data())
    def test_any_order_applies_once_and_ties_out(self, plans, data):
        savepoint = self.env.cr.savepoint(flush=False)
        try:
            self._check_example(plans, data)
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    # ------------------------------------------------------------- events

    def _payment(self, invoice, paid, foreign):
        payment = self._demo_payment(invoice, paid, ref=f"demo_pay_{invoice.id}")
        if foreign:
            obj = payment["data"]["object"]
            settled = round(paid * SETTLE_RATE)
            obj.update(
                settle_currency=self.company.currency_id.name.lower(),
                settle_amount=settled,
                fee=demo_fee(settled),
            )
        return payment

    def _dispute_events(self, invoice, payment_ref, paid, outcome, foreign):
        ref = f"demo_dp_{invoice.id}"
        # The dispute fee is charged in the balance's currency.
        fee = _half_up(DISPUTE_FEE * SETTLE_RATE) if foreign else DISPUTE_FEE
        events = [
            self._demo_obj_event(
                "dispute.opened",
                ref,
                payment_ref,
                paid,
                invoice,
                status="needs_response",
                fee=fee,
            )
        ]
        if outcome != "open":
            events.append(
                self._demo_obj_event(
                    "dispute.closed", ref, payment_ref, paid, invoice, status=outcome
                )
            )
        return events

    def _expected(self, plans):
        """Per invoice: what it still owes (its currency) and what the clearing
        account gained (the company's currency, which the gateway settles in)."""
        rows = []
        for currency, paid, refunded, dispute in plans:
            foreign = currency == "EUR"
            rate = SETTLE_RATE if foreign else 1.0
            settled = round(paid * rate) if foreign else paid
            clearing = settled - demo_fee(settled)
            # A refund or dispute the gateway reports no settlement for takes
            # the payment's rate.
            clearing -= _half_up(Decimal(refunded * settled) / paid)
            withdrawn = dispute in ("open", "lost")
            if dispute:
                clearing -= _half_up(DISPUTE_FEE * rate)
            if withdrawn:
                clearing -= settled
            rows.append(
                {
                    "owed": 100.0 - paid / 100 + (paid / 100 if withdrawn else 0.0),
                    "received": (paid - refunded) / 100,
                    "open_debit": refunded / 100,
                    "clearing": clearing / 100,
                    "disputed": dispute == "open",
                }
            )
        return rows

    # ------------------------------------------------------------- example

    def _check_example(self, plans, data):
        invoices, events = [], []
        clearing_before = self._clearing_balance()
        for currency, paid, refunded, dispute in plans:
            foreign = currency == "EUR"
            invoice = self._invoice(100.0, currency=self.eur if foreign else None)
            invoices.append(invoice)
            payment = self._payment(invoice, paid, foreign)
            payment_ref = payment["data"]["object"]["id"]
            events.append(payment)
            if refunded:
                events.append(
                    self._demo_obj_event(
                        "refund.succeeded",
                        f"demo_re_{invoice.id}",
                        payment_ref,
                        refunded,
                        invoice,
                    )
                )
            if dispute:
                events += self._dispute_events(
                    invoice, payment_ref, paid, dispute, foreign
                )
        # Redeliveries: some events arrive twice, and in any order.
        duplicates = data.draw(st.lists(st.sampled_from(events), max_size=4))
        deliveries = data.draw(st.permutations(events + duplicates))
        store = self.events._paycrm_store
        for event in deliveries:
            store(self.demo_gateway, self._body(event), event)
        self._process(rounds=10)

        stored = self.events.search([("gateway_id", "=", self.demo_gateway.id)])
        self.assertEqual(len(stored), len(events), "one row per event id")
        self.assertEqual(
            set(stored.mapped("state")),
            {"done"},
            stored.filtered(lambda e: e.state != "done").mapped(
                lambda e: (e.event_type, e.state, e.last_error)
            ),
        )
        expected = self._expected(plans)
        self.assertAlmostEqual(
            self._clearing_balance() - clearing_before,
            sum(row["clearing"] for row in expected),
            places=2,
            msg="the clearing account holds what the gateway's balance holds",
        )
        ledger = defaultdict(float)
        for invoice, row in zip(invoices, expected, strict=True):
            mine = stored.filtered(lambda e, i=invoice: e.invoice_id == i)
            self.assertAlmostEqual(
                invoice.amount_residual,
                row["owed"],
                msg=mine.mapped(
                    lambda e: (e.event_type, e.state, e.last_error, e.move_id.id)
                ),
            )
            self.assertAlmostEqual(invoice.paycrm_amount_received, row["received"])
            self.assertEqual(invoice.paycrm_disputed, row["disputed"])
            ledger[invoice.currency_id] += row["owed"] + row["open_debit"]
        # The ledger invariant: the customer's open receivable, per currency,
        # is what the invoices still owe plus the refunds no credit note took.
        receivable = self.env["account.move.line"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("move_id", "in", stored.move_id.ids + [inv.id for inv in invoices]),
            ]
        )
        for currency, owed in ledger.items():
            lines = receivable.filtered(lambda line, c=currency: line.currency_id == c)
            self.assertAlmostEqual(
                sum(lines.mapped("amount_residual_currency")), owed, places=2
            )
        # Every money movement is booked once, and each entry balances.
        booked = stored.filtered("move_id")
        self.assertEqual(len(booked.move_id), len(booked), "each money move once")
        for move in booked.move_id:
            self.assertTrue(
                self.company.currency_id.is_zero(sum(move.line_ids.mapped("balance")))
            )
