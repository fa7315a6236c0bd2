from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .insights_common import InsightsCommon


@tagged("post_install", "-at_install")
class TestAnalysisViews(InsightsCommon):
    """SQL views use PostgreSQL's CURRENT_DATE: dates here follow the real today."""

    def setUp(self):
        super().setUp()
        today = fields.Date.context_today(self.env.user)
        self.today = today

        def day(offset):
            return today + timedelta(days=offset)

        self.day = day
        self.on_time = self._invoice_on(1000, day(-80), day(-50))
        self.late = self._invoice_on(500, day(-70), day(-40))
        self.missed = self._invoice_on(300, day(-45), day(-15))
        self.open = self._invoice_on(200, day(-5), day(25))
        self.bob = self._invoice_on(700, day(-20), day(-10), self.other)
        self._pay(self.on_time, day(-52))
        self._pay(self.late, day(-28))
        self._pay(self.bob, day(-1))
        self._commit_hooks()
        self.mine = [("company_id", "=", self.company.id)]

    def test_invoice_view_matches_orm(self):
        rows = self.env["paycrm.invoice.analysis"].search(self.mine)
        by_invoice = {row.invoice_id: row for row in rows}
        self.assertEqual(by_invoice[self.on_time].status, "on_time")
        self.assertEqual(by_invoice[self.late].status, "late")
        self.assertEqual(by_invoice[self.late].days_late, 12)
        self.assertEqual(by_invoice[self.late].days_to_pay, 42)
        self.assertEqual(by_invoice[self.missed].status, "missed")
        self.assertEqual(by_invoice[self.open].status, "open")
        moves = self.env["account.move"].search(
            [*self.mine, ("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
        self.assertEqual(len(rows), len(moves))
        self.assertAlmostEqual(
            sum(rows.mapped("amount_total")), sum(moves.mapped("amount_total_signed"))
        )
        self.assertAlmostEqual(
            sum(rows.mapped("amount_residual")),
            sum(moves.mapped("amount_residual_signed")),
        )
        # Grouped figures agree with the customer's stored profile.
        [group] = self.env["paycrm.invoice.analysis"]._read_group(
            [*self.mine, ("partner_id", "=", self.customer.id)],
            aggregates=["days_to_pay:avg", "days_late:avg", "missed_count:sum"],
        )
        self.assertAlmostEqual(group[0], self.customer.paycrm_avg_days_to_pay, 1)
        self.assertAlmostEqual(group[1], self.customer.paycrm_avg_days_late, 1)
        self.assertEqual(group[2], 1)

    def test_dso_trend_current_month_equals_profiles(self):
        row = self.env["paycrm.dso.analysis"].search(
            [*self.mine, ("date", "=", self.today)]
        )
        self.assertEqual(len(row), 1)
        partners = self.customer | self.other
        open_amount = sum(partners.mapped("paycrm_open_amount"))
        self.assertAlmostEqual(row.receivable, open_amount)
        # Company figures: AR 500; sales 900 (last 30 days) -> 30 x 500 / 900.
        self.assertAlmostEqual(row.receivable, 500.0)
        self.assertAlmostEqual(row.dso, 30 * 500 / 900, places=2)
        self.assertEqual(row.sales_90, 2700.0)
        # Each earlier month end has its own row, oldest the first invoice's.
        months = self.env["paycrm.dso.analysis"].search(self.mine)
        self.assertEqual(min(months.mapped("date")).month, self.day(-80).month)

    def test_reminder_effectiveness_by_stage(self):
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
        logs = [
            (self.late, first, -40),  # paid 12 days later: not effective
            (self.late, second, -33),  # paid 5 days later: effective
            (self.missed, first, -15),  # still open
        ]
        self.env["paycrm.reminder.log"].create(
            [
                {
                    "company_id": self.company.id,
                    "invoice_id": invoice.id,
                    "stage_id": stage.id,
                    "result": "sent",
                    "sent_at": fields.Datetime.to_datetime(self.day(offset)),
                }
                for invoice, stage, offset in logs
            ]
        )
        self._commit_hooks()
        groups = self.env["paycrm.reminder.analysis"]._read_group(
            [("policy_id", "=", policy.id)],
            groupby=["stage_id"],
            aggregates=["reminder_count:sum", "paid_7_count:sum", "paid_7_rate:avg"],
        )
        result = {stage: rest for stage, *rest in groups}
        self.assertEqual(result[first], [2, 0, 0.0])
        self.assertEqual(result[second], [1, 1, 100.0])
