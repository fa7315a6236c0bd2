from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .insights_common import InsightsCommon


@tagged("post_install", "-at_install")
@freeze_time("2024-06-30")
class TestPaymentProfile(InsightsCommon):
    def test_crafted_history_exact_figures(self):
        inv = self._history()
        self._commit_hooks()
        ada = self.customer
        self.assertEqual(ada.paycrm_lifetime_paid, 3000.0)
        self.assertEqual(ada.paycrm_open_amount, 1500.0)
        self.assertEqual(ada.paycrm_overdue_amount, 900.0)
        self.assertEqual(ada.paycrm_oldest_overdue_days, 16)
        self.assertEqual(ada.paycrm_last_payment_date, date(2024, 6, 21))
        self.assertEqual(ada.paycrm_paid_count_12m, 3)
        # (30 + 39 + 50) / 3 days from invoice to payment; (0 + 10 + 20) / 3 late.
        self.assertAlmostEqual(ada.paycrm_avg_days_to_pay, 39.7, places=1)
        self.assertAlmostEqual(ada.paycrm_avg_days_late, 10.0, places=1)
        # Due in the last 12 months: 3 paid + the overdue one; 1 on time.
        self.assertEqual(ada.paycrm_due_count_12m, 4)
        self.assertAlmostEqual(ada.paycrm_on_time_rate, 25.0, places=1)
        # AR 1,500; sales 600 in the last 30 days, 1,900 the 30 before:
        # 30 + 30 x 900 / 1,900.
        self.assertAlmostEqual(ada.paycrm_dso, 30 + 30 * 900 / 1900, places=1)
        self.assertEqual(ada.paycrm_risk_rating, "C")
        self.assertEqual(
            ada.paycrm_risk_reasons, "On time for 25% of invoices (under 60%)"
        )
        # Own history (3 paid): due date + 10 days, never before today.
        self.assertEqual(ada.paycrm_predict_delay_days, 10)
        self.assertEqual(
            inv["open_not_due"].paycrm_predicted_pay_date, date(2024, 7, 20)
        )
        self.assertEqual(
            inv["open_overdue"].paycrm_predicted_pay_date, date(2024, 6, 30)
        )
        self.assertFalse(inv["paid_10_late"].paycrm_predicted_pay_date)
        # Bob has one paid invoice: company-wide mean lateness (0+10+20+5)/4 = 8.75.
        bob = self.other
        self.assertEqual(bob.paycrm_predict_delay_days, 9)
        self.assertEqual(inv["bob_open"].paycrm_predicted_pay_date, date(2024, 7, 14))
        # One paid invoice is too little history to grade: said so, with why.
        self.assertEqual(bob.paycrm_risk_rating, "new")
        self.assertEqual(
            bob.paycrm_risk_reasons,
            "Paid invoices in the last 12 months: 1 of the 3 a rating needs",
        )

    def test_payment_triggers_recompute_once_per_transaction(self):
        invoice = self._invoice_on(500, "2024-06-01", "2024-06-20")
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 500.0)
        self._pay(invoice, "2024-06-29")
        # Nothing is recomputed per line; the pre-commit hook does it once.
        self.assertEqual(self.customer.paycrm_overdue_amount, 500.0)
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 0.0)
        self.assertEqual(self.customer.paycrm_lifetime_paid, 500.0)
        self.assertEqual(self.customer.paycrm_last_payment_date, date(2024, 6, 29))
        # Unreconciling (a refunded or reversed payment) reopens the invoice.
        invoice.line_ids.remove_move_reconcile()
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 500.0)
        self.assertEqual(self.customer.paycrm_lifetime_paid, 0.0)

    def test_credit_note_is_not_money_received(self):
        invoice = self._invoice_on(500, "2024-06-01", "2024-06-20")
        reversal = invoice._reverse_moves(cancel=True)
        self._commit_hooks()
        self.assertEqual(reversal.state, "posted")
        self.assertEqual(self.customer.paycrm_lifetime_paid, 0.0)
        self.assertEqual(self.customer.paycrm_open_amount, 0.0)

    def test_rating_d_from_old_overdue_invoice(self):
        self._invoice_on(200, "2024-03-01", "2024-03-15")
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_risk_rating, "D")
        self.assertEqual(
            self.customer.paycrm_risk_reasons,
            "An invoice is 107 days overdue (over 90)",
        )
        self.assertAlmostEqual(self.customer.paycrm_dso, 90.0)

    def _nightly_cron(self):
        # As ir.cron runs it, as the superuser: it goes over every company's
        # invoices, and Odoo's loader installs demo data with companies this
        # test's user has no access to.
        self.env["paycrm.profile"].sudo()._cron_paycrm_recompute_profiles()

    def test_rating_thresholds_are_settings(self):
        self._history()
        self.env["res.config.settings"].create({"paycrm_risk_c_on_time": 20}).execute()
        self._nightly_cron()
        self.assertEqual(self.customer.paycrm_risk_rating, "B")
        self.assertIn(
            "Pays 10.0 days late on average (over 3)", self.customer.paycrm_risk_reasons
        )

    def test_short_history_is_not_enough_history(self):
        """The rating beside 0 % on time, 5 days late on average and 2,400
        overdue for 15 days is not "A - pays on time" (issue 14, item 9)."""
        paid = self._invoice_on(1000, "2024-04-01", "2024-05-01")
        self._pay(paid, "2024-05-06")
        self._invoice_on(2400, "2024-05-16", "2024-06-15")
        self._commit_hooks()
        ada = self.customer
        self.assertEqual(ada.paycrm_on_time_rate, 0.0)
        self.assertEqual(ada.paycrm_overdue_amount, 2400.0)
        self.assertEqual(ada.paycrm_oldest_overdue_days, 15)
        self.assertEqual(ada.paycrm_risk_rating, "new")
        self.assertEqual(
            ada.paycrm_risk_reasons,
            "Paid invoices in the last 12 months: 1 of the 3 a rating needs; "
            "An invoice is 15 days overdue",
        )
        labels = dict(self.env["res.partner"]._fields["paycrm_risk_rating"].selection)
        self.assertEqual(labels["new"], "Not enough history")
        # The minimum is a setting: at one paid invoice, the figures grade it.
        self.env["res.config.settings"].create(
            {"paycrm_profile_min_history": 1}
        ).execute()
        self._nightly_cron()
        self.assertEqual(ada.paycrm_risk_rating, "C")
        self.assertEqual(
            ada.paycrm_risk_reasons, "On time for 0% of invoices (under 60%)"
        )

    def test_short_history_far_overdue_is_still_graded(self):
        self._invoice_on(200, "2024-03-01", "2024-03-15")
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_paid_count_12m, 0)
        self.assertEqual(self.customer.paycrm_risk_rating, "D")

    def test_current_overdue_is_never_pays_on_time(self):
        for month in (3, 4, 5):
            invoice = self._invoice_on(100, f"2024-0{month}-01", f"2024-0{month}-20")
            self._pay(invoice, f"2024-0{month}-18")
        self._invoice_on(700, "2024-06-01", "2024-06-28")
        self._commit_hooks()
        self.assertAlmostEqual(self.customer.paycrm_avg_days_late, 0.0)
        self.assertEqual(self.customer.paycrm_oldest_overdue_days, 2)
        self.assertEqual(self.customer.paycrm_risk_rating, "B")
        # The open invoice also counts as not paid on time: 3 of 4.
        self.assertEqual(
            self.customer.paycrm_risk_reasons,
            "An invoice is 2 days overdue; On time for 75% of invoices (under 90%)",
        )

    def test_always_on_time_segment_and_filters(self):
        for month in (3, 4, 5):
            invoice = self._invoice_on(100, f"2024-0{month}-01", f"2024-0{month}-20")
            self._pay(invoice, f"2024-0{month}-18")
        self._history_for_other_late()
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_risk_rating, "A")
        self.assertEqual(
            self.customer.paycrm_risk_reasons,
            "Nothing overdue; 0.0 days late on average; on time for 100% of invoices",
        )
        self.assertAlmostEqual(self.customer.paycrm_on_time_rate, 100.0)
        partner_model = self.env["res.partner"]
        on_time = partner_model.search(
            [("paycrm_due_count_12m", ">=", 3), ("paycrm_on_time_rate", ">=", 100)]
        )
        late = partner_model.search(
            [("paycrm_due_count_12m", ">=", 3), ("paycrm_on_time_rate", "<", 50)]
        )
        self.assertIn(self.customer, on_time)
        self.assertNotIn(self.other, on_time)
        self.assertEqual(late & (self.customer | self.other), self.other)

    def _history_for_other_late(self):
        for month in (3, 4, 5):
            invoice = self._invoice_on(
                100, f"2024-0{month}-01", f"2024-0{month}-10", self.other
            )
            self._pay(invoice, f"2024-0{month}-28")

    def test_reminder_responsiveness(self):
        template = self.env.ref("paycrm_connector.mail_template_paycrm_reminder_due")
        policy = self.env["paycrm.reminder.policy"].create(
            {
                "name": "P",
                "company_id": self.company.id,
                "stage_ids": [
                    Command.create(
                        {"name": n, "offset_days": d, "mail_template_id": template.id}
                    )
                    for n, d in (("Due", 0), ("Late", 7))
                ],
            }
        )
        first, second = policy.stage_ids.sorted("offset_days")
        paid = self._invoice_on(100, "2024-06-01", "2024-06-10")
        open_ = self._invoice_on(100, "2024-06-01", "2024-06-10")
        self.env["paycrm.reminder.log"].create(
            [
                {
                    "company_id": self.company.id,
                    "invoice_id": invoice.id,
                    "stage_id": stage.id,
                    "result": "sent",
                    "sent_at": "2024-06-10 08:00:00",
                }
                for invoice, stage in ((paid, first), (open_, first), (open_, second))
            ]
        )
        self._pay(paid, "2024-06-12")
        self.env["paycrm.reminder.log"]._paycrm_credit_payments()
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_reminder_count_12m, 3)
        self.assertAlmostEqual(self.customer.paycrm_reminder_response_rate, 100 / 3, 1)

    def test_contact_invoices_roll_up_to_company(self):
        contact = self.env["res.partner"].create(
            {"name": "Ada's accountant", "parent_id": self.customer.id}
        )
        self._invoice_on(250, "2024-06-01", "2024-06-20", contact)
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 250.0)
        self.assertFalse(contact.paycrm_risk_rating)

    def test_partner_without_invoices_has_no_rating(self):
        self._nightly_cron()
        self.customer._paycrm_recompute_profiles()
        self.assertFalse(self.customer.paycrm_risk_rating)
        self.assertEqual(self.customer.paycrm_dso, 0.0)

    def test_cancelled_invoice_leaves_the_profile(self):
        invoice = self._invoice_on(400, "2024-06-01", "2024-06-20")
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 400.0)
        invoice.button_draft()
        invoice.button_cancel()
        self._commit_hooks()
        self.assertEqual(self.customer.paycrm_overdue_amount, 0.0)
        self.assertFalse(self.customer.paycrm_risk_rating)
