"""Events onto accounting, through real signed posts and the real processor."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestDemoBooking(WebhookHttpCase):
    def _pay(self, invoice, minor, **kw):
        event = self._demo_payment(invoice, minor, **kw)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        return self._event(event["id"])

    def test_full_payment_reconciled_with_fee(self):
        invoice = self._invoice(100.0)
        clearing_before = self._clearing_balance()
        event = self._pay(invoice, 10000)
        self.assertEqual(event.state, "done")
        self.assertEqual(event.invoice_id, invoice)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.paycrm_amount_received, 100.0)
        self.assertAlmostEqual(invoice.paycrm_fee_amount, 1.75)  # 150 + 25 minor
        self.assertEqual(invoice.paycrm_gateway_ref, f"demo_pay_{invoice.id}")
        self.assertEqual(event.move_id.journal_id, self.demo_gateway.journal_id)
        self.assertEqual(event.move_id.state, "posted")
        self.assertAlmostEqual(self._clearing_balance() - clearing_before, 98.25)
        fee_line = event.move_id.line_ids.filtered(
            lambda line: line.account_id == self.demo_gateway.fee_account_id
        )
        self.assertAlmostEqual(fee_line.debit, 1.75)

    def test_partial_then_rest(self):
        invoice = self._invoice(100.0)
        self._pay(invoice, 4000, ref="demo_pay_a")
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 60.0)
        self._pay(invoice, 6000, ref="demo_pay_b")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(invoice.paycrm_amount_received, 100.0)

    def test_overpayment_leaves_credit_and_activity(self):
        invoice = self._invoice(100.0)
        self._pay(invoice, 7000, ref="demo_pay_a")
        self._pay(invoice, 7000, ref="demo_pay_b")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.customer.credit, -40.0)
        self.assertIn("Overpayment", " ".join(invoice.activity_ids.mapped("summary")))

    def test_unmatched_inputs_post_nothing(self):
        invoice = self._invoice(100.0)
        eur = self.env.ref("base.EUR")
        deleted = self._invoice(50.0, post=False)
        deleted_event = self._demo_payment(deleted, 5000, ref="demo_pay_del")
        deleted.unlink()
        cases = {
            "amount above the invoice": self._demo_payment(invoice, 20000, ref="p1"),
            "currency": self._demo_payment(
                invoice, 10000, currency=eur.name.lower(), ref="p2"
            ),
            "other database": self._demo_payment(invoice, 10000, ref="p3", db="x"),
            "deleted invoice": deleted_event,
        }
        moves = self.env["account.move"].search_count([])
        for name, event in cases.items():
            with self.subTest(name):
                self.assertEqual(self._post_demo(event).status_code, 200)
                self._process()
                stored = self._event(event["id"])
                self.assertEqual(stored.state, "unmatched", stored.last_error)
                self.assertFalse(stored.move_id)
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_foreign_payment_ignored(self):
        event = self._demo_payment(self._invoice(100.0), 10000)
        event["data"]["object"]["metadata"] = {}
        self._post_demo(event)
        self._process()
        self.assertEqual(self._event(event["id"]).state, "ignored")

    def test_match_wizard_books_unmatched(self):
        invoice = self._invoice(100.0)
        other = self._invoice(100.0)
        event = self._pay(invoice, 10000, ref="demo_pay_x", db="otherdb")
        self.assertEqual(event.state, "unmatched")
        wizard = self.env["paycrm.event.match"].create(
            {"event_id": event.id, "invoice_id": other.id}
        )
        self.assertEqual(wizard.amount, 100.0)
        wizard.action_paycrm_match()
        self.assertEqual(event.state, "done")
        self.assertEqual(other.payment_state, "paid")

    def test_signed_event_of_wrong_shape_fails_at_once(self):
        invoice = self._invoice(100.0)
        shapes = {
            "data a string": lambda e: e.update(data="str"),
            "amount text": lambda e: e["data"]["object"].update(amount="abc"),
            "metadata a string": lambda e: e["data"]["object"].update(metadata="x"),
            # Never rounded into an amount booked: 1250.5 minor units is no
            # amount a gateway sends.
            "amount with a fraction": lambda e: e["data"]["object"].update(
                amount=1250.5
            ),
            "amount a boolean": lambda e: e["data"]["object"].update(amount=True),
            "fee a float": lambda e: e["data"]["object"].update(fee=0.5),
        }
        for number, (name, spoil) in enumerate(shapes.items()):
            with self.subTest(name):
                event = self._demo_payment(invoice, 10000, ref=f"bad_{number}")
                spoil(event)
                self.assertEqual(self._post_demo(event).status_code, 200)
                with mute_logger("odoo.addons.paycrm_connector.models.paycrm_booking"):
                    self._process(rounds=1)
                stored = self._event(event["id"])
                self.assertEqual((stored.state, stored.attempts), ("failed", 1))
                self.assertIn("data", stored.last_error)
                if number >= 3:
                    self.assertIn("whole number of minor units", stored.last_error)
                self.assertFalse(stored.move_id)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_match_wizard_refuses_amounts_that_do_not_fit(self):
        invoice = self._invoice(100.0)
        moves = self.env["account.move"].search_count([])
        for name, minor in (("huge", 10**15), ("negative", -64000), ("zero", 0)):
            with self.subTest(name):
                event = self._pay(invoice, minor, ref=f"demo_pay_{name}", db="otherdb")
                self.assertEqual(event.state, "unmatched")
                wizard = self.env["paycrm.event.match"].create(
                    {"event_id": event.id, "invoice_id": invoice.id}
                )
                with self.assertRaisesRegex(UserError, "cannot pay"):
                    wizard.action_paycrm_match()
                self.assertEqual(event.state, "unmatched")
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_refund_with_credit_note_and_without(self):
        invoice = self._invoice(100.0)
        pay = self._pay(invoice, 10000)
        credit_note = invoice._reverse_moves([{"ref": "cn"}])
        credit_note.invoice_line_ids[0].price_unit = 30.0
        credit_note.action_post()
        refund = self._demo_obj_event(
            "refund.succeeded", "demo_re_1", pay.payment_ref, 3000, invoice
        )
        self._post_demo(refund)
        self._process()
        self.assertEqual(self._event(refund["id"]).state, "done")
        self.assertTrue(credit_note.currency_id.is_zero(credit_note.amount_residual))
        self.assertAlmostEqual(invoice.paycrm_amount_received, 70.0)
        # A second refund has no credit note left: open item plus activity.
        refund2 = self._demo_obj_event(
            "refund.succeeded", "demo_re_2", pay.payment_ref, 1000, invoice
        )
        self._post_demo(refund2)
        self._process()
        self.assertAlmostEqual(self.customer.credit, 10.0)
        self.assertIn(
            "Refund without credit note", invoice.activity_ids.mapped("summary")
        )

    def test_refund_above_what_the_payment_holds_is_held(self):
        invoice = self._invoice(100.0)
        pay = self._pay(invoice, 10000)
        first = self._demo_obj_event(
            "refund.succeeded", "demo_re_full", pay.payment_ref, 10000, invoice
        )
        self._post_demo(first)
        self._process()
        self.assertEqual(self._event(first["id"]).state, "done")
        entries = self.env["account.move"].search_count(
            [("journal_id", "=", self.demo_gateway.journal_id.id)]
        )
        # A second refund of the same payment, under its own id: the payment
        # holds nothing any more.
        second = self._demo_obj_event(
            "refund.succeeded", "demo_re_again", pay.payment_ref, 10000, invoice
        )
        self.assertEqual(self._post_demo(second).status_code, 200)
        self._process()
        held = self._event(second["id"])
        self.assertEqual(held.state, "unmatched")
        self.assertIn("more than payment", held.last_error)
        self.assertIn("(0.0 USD)", held.last_error)
        self.assertFalse(held.move_id)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("journal_id", "=", self.demo_gateway.journal_id.id)]
            ),
            entries,
        )
        self.assertAlmostEqual(invoice.paycrm_amount_received, 0.0)

    def test_refund_before_payment_converges(self):
        invoice = self._invoice(100.0)
        payment = self._demo_payment(invoice, 10000)
        refund = self._demo_obj_event(
            "refund.succeeded",
            "demo_re_1",
            payment["data"]["object"]["id"],
            2500,
            invoice,
        )
        self._post_demo(refund)
        self._process(rounds=1)
        parked = self._event(refund["id"])
        self.assertEqual(parked.state, "received")
        self.assertEqual(parked.attempts, 1)
        self.assertTrue(parked.next_try)
        self._post_demo(payment)
        self._process()
        self.assertEqual(parked.state, "done")
        self.assertAlmostEqual(self.customer.credit, 25.0)

    def test_dispute_withdrawn_then_won(self):
        invoice = self._invoice(100.0)
        pay = self._pay(invoice, 10000)
        clearing = self._clearing_balance()
        opened = self._demo_obj_event(
            "dispute.opened",
            "demo_dp_1",
            pay.payment_ref,
            10000,
            invoice,
            fee=1500,
            status="needs_response",
        )
        self._post_demo(opened)
        self._process()
        self.assertTrue(invoice.paycrm_disputed)
        self.assertAlmostEqual(clearing - self._clearing_balance(), 115.0)
        closed = self._demo_obj_event(
            "dispute.closed", "demo_dp_1", pay.payment_ref, 10000, invoice, status="won"
        )
        self._post_demo(closed)
        self._process()
        self.assertFalse(invoice.paycrm_disputed)
        self.assertAlmostEqual(clearing - self._clearing_balance(), 15.0)
        self.assertAlmostEqual(self.customer.credit, 0.0)

    def test_payout_one_transfer(self):
        invoice = self._invoice(100.0)
        self._pay(invoice, 10000)
        bank = self.demo_gateway._paycrm_payout_journal()
        self.assertTrue(bank)
        payout = self._demo_obj_event("payout.paid", "demo_po_1", "", 9825, invoice)
        self._post_demo(payout)
        self._process()
        event = self._event(payout["id"])
        self.assertEqual(event.state, "done")
        self.assertEqual(len(event.move_id.line_ids), 2)
        self.assertAlmostEqual(self._clearing_balance(), 0.0)

    def test_refund_wizard_books_through_webhook_path(self):
        invoice = self._invoice(100.0)
        self._pay(invoice, 10000)
        wizard = (
            self.env["paycrm.refund"]
            .with_context(default_invoice_id=invoice.id)
            .create({"amount": 40.0})
        )
        with self.assertRaises(UserError):
            wizard.copy({"amount": 140.0}).action_paycrm_refund()
        wizard.action_paycrm_refund()
        self._process()
        self.assertAlmostEqual(invoice.paycrm_amount_received, 60.0)
        self.assertAlmostEqual(self.customer.credit, 40.0)


@tagged("post_install", "-at_install")
class TestStripeBooking(WebhookHttpCase):
    def test_checkout_completed_fee_from_balance_transaction(self):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        event = self._send_stripe("checkout.session.completed", paid["session"])
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(invoice.payment_state, "paid")
        fee = paid["balance_transaction"]["fee"] / 100
        self.assertAlmostEqual(invoice.paycrm_fee_amount, fee)
        self.assertTrue(self.standin.last("GET", "/v1/payment_intents/"))
        # The PaymentIntent event carries the same money: booked once.
        again = self._send_stripe("payment_intent.succeeded", paid["payment_intent"])
        self.assertEqual(again.state, "done")
        self.assertFalse(again.move_id)
        self.assertAlmostEqual(invoice.paycrm_amount_received, 100.0)

    def test_gateway_down_retried_then_done(self):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self.standin.fail_next(500, path_prefix="/v1/payment_intents")
        event = self._stripe_event("checkout.session.completed", paid["session"])
        self._post_stripe(event)
        self.env["paycrm.event"]._paycrm_process_batch(10)
        stored = self._event(event["id"], self.stripe_gateway)
        self.assertEqual(stored.state, "received")
        self.assertEqual(stored.attempts, 1)
        self.assertIn("HTTP 500", stored.last_error)
        self.assertFalse(stored.move_id)
        self.assertEqual(invoice.payment_state, "not_paid")
        self._process()
        self.assertEqual(stored.state, "done")
        self.assertEqual(invoice.payment_state, "paid")

    def test_gateway_down_too_long_fails_visibly(self):
        self.stripe_gateway.event_max_attempts = 2
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self.standin.fail_next(500, count=5, path_prefix="/v1/payment_intents")
        event = self._stripe_event("checkout.session.completed", paid["session"])
        self._post_stripe(event)
        self._process()
        stored = self._event(event["id"], self.stripe_gateway)
        self.assertEqual((stored.state, stored.attempts), ("failed", 2))
        self.standin._faults.clear()
        stored.action_paycrm_reprocess()
        self.assertEqual(stored.state, "done")

    def test_refunds_dashboard_and_api_booked_once(self):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self._send_stripe("payment_intent.succeeded", paid["payment_intent"])
        refund = self.standin._create_refund(
            {"payment_intent": paid["payment_intent"]["id"], "amount": 3000}
        )
        created = self._send_stripe("refund.created", refund)
        self.assertEqual(created.state, "done", created.last_error)
        updated = self._send_stripe("refund.updated", refund)
        self.assertFalse(updated.move_id)
        charge = dict(self.standin.get("charge", paid["charge"]["id"]))
        charge["refunds"] = {"object": "list", "data": [refund]}
        self._send_stripe("charge.refunded", charge)
        self.assertAlmostEqual(invoice.paycrm_amount_received, 70.0)
        self.assertAlmostEqual(self.customer.credit, 30.0)

    def test_dispute_lifecycle(self):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self._send_stripe("checkout.session.completed", paid["session"])
        clearing = self._clearing_balance(self.stripe_gateway)
        dispute = {
            "id": "dp_1",
            "object": "dispute",
            "amount": 10000,
            "currency": "usd",
            "charge": paid["charge"]["id"],
            "payment_intent": paid["payment_intent"]["id"],
            "status": "needs_response",
            "metadata": {},
            "balance_transactions": [{"amount": -10000, "fee": 1500}],
        }
        self._send_stripe("charge.dispute.created", dispute)
        self.assertTrue(invoice.paycrm_disputed)
        self.assertAlmostEqual(self._clearing_balance(self.stripe_gateway), clearing)
        self._send_stripe("charge.dispute.funds_withdrawn", dispute)
        self.assertAlmostEqual(
            clearing - self._clearing_balance(self.stripe_gateway), 115.0
        )
        dispute["balance_transactions"].append({"amount": 10000, "fee": -1500})
        self._send_stripe("charge.dispute.funds_reinstated", dispute)
        dispute["status"] = "won"
        self._send_stripe("charge.dispute.closed", dispute)
        self.assertFalse(invoice.paycrm_disputed)
        self.assertAlmostEqual(self._clearing_balance(self.stripe_gateway), clearing)

    def test_payout_and_tieout(self):
        invoice = self._invoice(100.0)
        paid = self._stripe_paid_session(invoice, 10000)
        self._send_stripe("checkout.session.completed", paid["session"])
        net = paid["balance_transaction"]["net"]
        self.standin.balance = {
            "object": "balance",
            "livemode": False,
            "available": [{"amount": net, "currency": "usd"}],
            "pending": [],
        }
        tieout = self.stripe_gateway.action_paycrm_tieout()
        wizard = self.env["paycrm.tieout"].browse(tieout["res_id"])
        self.assertTrue(wizard.gateway_known)
        self.assertAlmostEqual(wizard.difference, 0.0)
        # Only movements the books lack are listed (the stand-in keeps other
        # tests' charges, which this test's database never saw).
        self.assertNotIn(paid["charge"]["id"], wizard.line_ids.mapped("reference"))
        payout = {
            "id": "po_1",
            "object": "payout",
            "amount": net,
            "currency": "usd",
            "status": "paid",
            "metadata": {},
        }
        event = self._send_stripe("payout.paid", payout)
        self.assertEqual(event.state, "done", event.last_error)
        self.assertAlmostEqual(self._clearing_balance(self.stripe_gateway), 0.0)

    def test_foreign_stripe_payment_ignored(self):
        intent = self.standin.put(
            "payment_intent",
            {"amount": 5000, "currency": "usd", "status": "succeeded", "metadata": {}},
        )
        with mute_logger("odoo.addons.paycrm_connector.models.paycrm_event_processor"):
            event = self._send_stripe("payment_intent.succeeded", intent)
        self.assertEqual(event.state, "ignored")
        self.assertFalse(event.move_id)
