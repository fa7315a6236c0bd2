"""A gateway payout meets the bank statement line that brings its money.

The payout webhook books clearing -> the bank journal's outstanding receipts;
the statement line (imported or synced) is matched to it, so the bank holds
the money once and nothing is left open.
"""

from odoo.tests import tagged

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestPayoutStatement(WebhookHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.demo_gateway._paycrm_payout_journal()
        cls.transit = cls.bank._paycrm_payout_transit_account()

    def _payout(self, ref, amount_minor, event_type="payout.paid"):
        invoice = self._invoice(amount_minor / 100)
        self._post_demo(self._demo_payment(invoice, amount_minor, ref=f"pay_{ref}"))
        self._process()
        event = self._demo_obj_event(event_type, ref, "", amount_minor, invoice)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        return self._event(event["id"])

    def _statement_line(self, amount, label):
        return self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "amount": amount, "payment_ref": label}
        )

    def _balance(self, account):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))

    def test_payout_waits_in_outstanding_receipts(self):
        self.assertTrue(self.transit.reconcile)
        event = self._payout("demo_po_a", 5000)
        self.assertEqual(event.state, "done", event.last_error)
        line = event.move_id.line_ids.filtered(
            lambda line: line.account_id == self.transit
        )
        self.assertAlmostEqual(line.balance, 50.0)
        self.assertFalse(line.reconciled)
        # Nothing in the bank yet: the statement brings it.
        self.assertAlmostEqual(self._balance(self.bank.default_account_id), 0.0)

    def test_statement_line_named_by_payout_reconciles(self):
        event = self._payout("demo_po_b", 7000)
        # A second open payout of the same amount: the label decides.
        other = self._payout("demo_po_c", 7000)
        st_line = self._statement_line(70.0, "STRIPE PAYOUT demo_po_b")
        self.assertTrue(st_line.is_reconciled)
        line = event.move_id.line_ids.filtered(
            lambda line: line.account_id == self.transit
        )
        self.assertTrue(line.reconciled)
        other_line = other.move_id.line_ids.filtered(
            lambda line: line.account_id == self.transit
        )
        self.assertFalse(other_line.reconciled)
        # One line in the bank, 70.00, counted once; 70.00 still in transit.
        self.assertAlmostEqual(self._balance(self.bank.default_account_id), 70.0)
        self.assertAlmostEqual(self._balance(self.transit), 70.0)

    def test_unique_amount_matches_without_reference(self):
        self._payout("demo_po_d", 4321)
        st_line = self._statement_line(43.21, "TRANSFER FROM GATEWAY")
        self.assertTrue(st_line.is_reconciled)
        self.assertAlmostEqual(self._balance(self.transit), 0.0)

    def test_ambiguous_or_foreign_lines_left_alone(self):
        self._payout("demo_po_e", 3000)
        self._payout("demo_po_f", 3000)
        self.assertFalse(self._statement_line(30.0, "GATEWAY").is_reconciled)
        self.assertFalse(self._statement_line(31.0, "demo_po_e").is_reconciled)
        self.assertFalse(self._statement_line(-30.0, "demo_po_e").is_reconciled)

    def test_failed_payout_reverses(self):
        paid = self._payout("demo_po_g", 2500)
        failed = self._demo_obj_event(
            "payout.failed", "demo_po_g", "", 2500, paid.invoice_id or self._invoice()
        )
        self._post_demo(failed)
        self._process()
        back = self._event(failed["id"])
        self.assertEqual(back.state, "done", back.last_error)
        self.assertTrue(back.move_id)
        self.assertAlmostEqual(self._balance(self.transit), 0.0)
        transit_lines = (paid.move_id + back.move_id).line_ids.filtered(
            lambda line: line.account_id == self.transit
        )
        self.assertTrue(all(transit_lines.mapped("reconciled")))

    def test_transit_account_without_method_account(self):
        """A bank journal whose inbound methods name no outstanding account
        uses the company's, as Odoo's own payments do."""
        self.bank.inbound_payment_method_line_ids.payment_account_id = False
        transit = self.bank._paycrm_payout_transit_account()
        self.assertTrue(transit)
        self.assertTrue(transit.reconcile)
        event = self._payout("demo_po_h", 1234)
        self.assertEqual(event.state, "done", event.last_error)
        st_line = self._statement_line(12.34, "demo_po_h")
        self.assertTrue(st_line.is_reconciled)

    def test_statement_lines_of_other_journals_untouched(self):
        journal = self.env["account.journal"].create(
            {"name": "Other bank", "type": "bank", "code": "OTHB"}
        )
        journal.inbound_payment_method_line_ids.payment_account_id = False
        st_line = self.env["account.bank.statement.line"].create(
            {"journal_id": journal.id, "amount": 10.0, "payment_ref": "x"}
        )
        self.assertFalse(st_line.is_reconciled)
