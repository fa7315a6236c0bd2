"""The processor's batches: one bad event rolls back alone, the rest is booked."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from ..models.booking_plan import Booking
from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestEventBatches(WebhookHttpCase):
    def _store(self, invoice, ref):
        event = self._demo_payment(invoice, 10000, ref=ref)
        answer = self._post_demo(event)
        self.assertEqual((answer.status_code, answer.text), (200, "ok"))
        return self._event(event["id"])

    def _broken_invoice(self):
        """An invoice whose receivable account is deprecated after posting:
        its payment entry is created, then refused at posting."""
        receivable = self.customer.property_account_receivable_id.copy(
            {"code": "121099", "name": "Receivable closed"}
        )
        partner = self.customer.copy(
            {"name": "Closed account", "property_account_receivable_id": receivable.id}
        )
        invoice = self._invoice(100.0, partner=partner)
        receivable.deprecated = True
        return invoice

    def test_bad_event_rolls_back_alone(self):
        good_a = self._invoice(100.0)
        broken = self._broken_invoice()
        good_b = self._invoice(100.0)
        events = [
            self._store(good_a, "demo_pay_a"),
            self._store(broken, "demo_pay_broken"),
            self._store(good_b, "demo_pay_b"),
        ]
        moves = self.env["account.move"].search_count([])
        with mute_logger("odoo.addons.paycrm_connector.models.paycrm_event_processor"):
            handled = self.events._paycrm_process_batch(10)
        self.env.invalidate_all()
        self.assertEqual(handled, 3)
        self.assertEqual([e.state for e in events], ["done", "failed", "done"])
        self.assertIn("deprecated", events[1].last_error)
        self.assertEqual(events[1].attempts, 1)
        self.assertFalse(events[1].move_id)
        # Two entries, not three: the refused one left nothing behind.
        self.assertEqual(self.env["account.move"].search_count([]), moves + 2)
        self.assertEqual(
            [good_a.payment_state, broken.payment_state, good_b.payment_state],
            ["paid", "not_paid", "paid"],
        )
        self.assertFalse(broken.paycrm_amount_received)

    def test_handler_plans_and_poster_books(self):
        """A handler returns a typed plan and posts nothing; the poster books
        it (a batch of one) and writes the event."""
        invoice = self._invoice(100.0)
        event = self._store(invoice, "demo_pay_plan")
        moves = self.env["account.move"].search_count([])
        plan = self.env["paycrm.booking"]._paycrm_apply(event)
        self.assertIsInstance(plan, Booking)
        self.assertTrue(plan.batchable)
        self.assertEqual(
            (plan.state, plan.invoice, plan.amount, plan.booking_key),
            ("done", invoice, 100.0, "pay:demo_pay_plan"),
        )
        self.assertEqual(len(plan.entries), 1)
        self.assertIn(self.clearing, [line.account for line in plan.entries[0].lines])
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(event.state, "received")

        self.env["paycrm.booking.poster"]._paycrm_post([plan])
        self.assertEqual(self.env["account.move"].search_count([]), moves + 1)
        self.assertEqual(
            (event.state, event.booking_key), ("done", "pay:demo_pay_plan")
        )
        self.assertTrue(event.move_id)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(invoice.paycrm_amount_received, 100.0)

        # Its event again: the plan says so, and books nothing.
        again = self.env["paycrm.booking"]._paycrm_apply(event)
        self.assertFalse(again.batchable)
        self.assertIn("Already booked", again.message)

    def test_partial_payments_of_one_invoice_in_one_batch(self):
        invoice = self._invoice(100.0)
        other = self._invoice(100.0)
        stored = self.events
        for ref, minor in (("p_a", 4000), ("p_b", 6000), ("p_c", 2000)):
            event = self._demo_payment(invoice, minor, ref=ref)
            self.assertEqual(self._post_demo(event).status_code, 200)
            stored |= self._event(event["id"])
        stored |= self._store(other, "p_other")
        self.assertEqual(self.events._paycrm_process_batch(10), 4)
        self.env.invalidate_all()
        self.assertEqual(set(stored.mapped("state")), {"done"})
        self.assertEqual(len(stored.move_id), 4)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(invoice.paycrm_amount_received, 120.0)
        self.assertEqual(other.payment_state, "paid")
        # The third payment came on top of a settled invoice: credit and a
        # review activity, as when booked one at a time.
        self.assertAlmostEqual(self.customer.credit, -20.0)
        overpaid = invoice.activity_ids.filtered(lambda a: "Overpayment" in a.summary)
        self.assertEqual(len(overpaid), 1)
        self.assertIn("20.0", overpaid.note)

    def test_batch_size_setting_claims_in_chunks(self):
        self.env["ir.config_parameter"].sudo().set_param(
            const.EVENT_BATCH_SIZE_PARAM, "2"
        )
        self.assertEqual(self.events._paycrm_batch_size(), 2)
        invoices = [self._invoice(100.0) for _n in range(5)]
        events = [self._store(inv, f"demo_pay_{n}") for n, inv in enumerate(invoices)]
        self.assertEqual(self.events._paycrm_process_batch(4), 4)
        self.env.invalidate_all()
        self.assertEqual([e.state for e in events], ["done"] * 4 + ["received"])
        self.assertEqual(self.events._paycrm_process_batch(4), 1)
        self.assertEqual(events[4].invoice_id.payment_state, "paid")

    def _flush_tracking(self):
        # Tracking messages are written at commit time (a precommit hook).
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()

    def test_processor_quiet_reprocess_tracked(self):
        broken = self._broken_invoice()
        # The invoicing test base disables tracking: turn it back on here.
        loud = {"tracking_disable": False, "mail_notrack": False}
        event = self._store(broken, "demo_pay_broken").with_context(**loud)
        with mute_logger("odoo.addons.paycrm_connector.models.paycrm_event_processor"):
            self.events.with_context(**loud)._paycrm_process_batch(10)
        self._flush_tracking()
        self.assertEqual(event.state, "failed")
        # No chatter per event from the batch processor...
        self.assertFalse(event.message_ids.tracking_value_ids)
        broken.line_ids.account_id.filtered("deprecated").deprecated = False
        event.action_paycrm_reprocess()
        self._flush_tracking()
        self.assertEqual(event.state, "done")
        # ...but a manual Reprocess leaves its trace.
        self.assertTrue(event.message_ids.tracking_value_ids)
        self.assertEqual(broken.payment_state, "paid")
