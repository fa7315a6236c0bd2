"""Promises 2-4 over random orders and redeliveries of events (hypothesis)."""

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from ..gateways.demo import demo_fee
from .webhook_common import WebhookCommon

N_INVOICES = 3


def _plans():
    """Per invoice: amount paid (minor) and refunded (minor, maybe 0)."""
    invoice = st.integers(min_value=1, max_value=10000).flatmap(
        lambda paid: st.tuples(st.just(paid), st.integers(0, paid))
    )
    return st.lists(invoice, min_size=N_INVOICES, max_size=N_INVOICES)


@tagged("post_install", "-at_install")
class TestWebhookProperty(WebhookCommon):
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

    def _check_example(self, plans, data):
        invoices, events = [], []
        clearing_before = self._clearing_balance()
        for paid, refunded in plans:
            invoice = self._invoice(100.0)
            invoices.append(invoice)
            payment = self._demo_payment(invoice, paid, ref=f"demo_pay_{invoice.id}")
            events.append(payment)
            if refunded:
                events.append(
                    self._demo_obj_event(
                        "refund.succeeded",
                        f"demo_re_{invoice.id}",
                        payment["data"]["object"]["id"],
                        refunded,
                        invoice,
                    )
                )
        # Redeliveries: some events arrive twice, and in any order.
        duplicates = data.draw(st.lists(st.sampled_from(events), max_size=4))
        deliveries = data.draw(st.permutations(events + duplicates))
        store = self.events._paycrm_store
        for event in deliveries:
            store(self.demo_gateway, self._body(event), event)
        self._process(rounds=8)

        stored = self.events.search([("gateway_id", "=", self.demo_gateway.id)])
        self.assertEqual(len(stored), len(events), "one row per event id")
        self.assertEqual(set(stored.mapped("state")), {"done"}, "no event lost")
        fees = sum(demo_fee(paid) for paid, _refunded in plans)
        expected_clearing = sum(paid - refunded for paid, refunded in plans) - fees
        self.assertAlmostEqual(
            self._clearing_balance() - clearing_before, expected_clearing / 100
        )
        for invoice, (paid, refunded) in zip(invoices, plans, strict=True):
            self.assertAlmostEqual(
                invoice.amount_residual,
                100.0 - paid / 100,
                msg=stored.filtered(lambda e, i=invoice: e.invoice_id == i).mapped(
                    lambda e: (e.event_type, e.state, e.last_error, e.move_id.id)
                ),
            )
            self.assertAlmostEqual(
                invoice.paycrm_amount_received, (paid - refunded) / 100
            )
            mine = stored.filtered(lambda e, i=invoice: e.invoice_id == i)
            receivable = self.env["account.move.line"].search(
                [
                    ("partner_id", "=", invoice.commercial_partner_id.id),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("parent_state", "=", "posted"),
                    ("move_id", "in", (invoice | mine.move_id).ids),
                ]
            )
            # Residual owed = total - captured + refunded.
            self.assertAlmostEqual(
                sum(receivable.mapped("amount_residual")),
                100.0 - paid / 100 + refunded / 100,
            )
        self.assertEqual(
            len(stored.filtered("move_id")), len(events), "each money move once"
        )
