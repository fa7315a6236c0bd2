"""Payment profiles stay per company and per currency (issue 12, item 8)."""

from pathlib import Path
from runpy import run_path

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .insights_common import InsightsCommon
from .webhook_common import WebhookCommon


@tagged("post_install", "-at_install")
class TestProfilePerCompany(InsightsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")  # 3.0 per USD in 2016, 2.0 in 2017
        cls.company_eur = cls.setup_other_company(
            name="Company EUR", currency_id=cls.eur.id
        )["company"]
        cls.env.user.company_ids |= cls.company_eur

    def _profile(self, company):
        return self.customer.with_company(company)

    def test_migration_computes_per_company_profiles(self):
        self._invoice_on(250, "2017-06-01", "2017-06-20", company=self.company_eur)
        self.assertFalse(self._profile(self.company_eur).paycrm_profile_date)
        script = Path(__file__).parents[1] / "migrations/18.0.2.0.0/post-migrate.py"
        run_path(str(script))["migrate"](self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        eur = self._profile(self.company_eur)
        self.assertTrue(eur.paycrm_profile_date)
        self.assertAlmostEqual(eur.paycrm_open_amount, 250.0)
        self.assertAlmostEqual(self._profile(self.company).paycrm_open_amount, 0.0)

    @freeze_time("2017-06-30")
    def test_each_company_sees_its_own_profile_in_its_currency(self):
        usd_company = self.company
        paid = self._invoice_on(1000, "2017-03-01", "2017-03-31", company=usd_company)
        self._pay(paid, "2017-04-20", company=usd_company)  # 20 days late
        self._invoice_on(400, "2017-05-01", "2017-05-31", company=usd_company)
        self._invoice_on(250, "2017-06-01", "2017-06-20", company=self.company_eur)
        self.customer._paycrm_recompute_profiles()

        usd = self._profile(usd_company)
        self.assertEqual(usd.paycrm_profile_currency_id, usd_company.currency_id)
        self.assertAlmostEqual(usd.paycrm_lifetime_paid, 1000.0)
        self.assertAlmostEqual(usd.paycrm_open_amount, 400.0)
        self.assertAlmostEqual(usd.paycrm_overdue_amount, 400.0)
        self.assertEqual(usd.paycrm_paid_count_12m, 1)
        self.assertAlmostEqual(usd.paycrm_avg_days_late, 20.0)

        eur = self._profile(self.company_eur)
        self.assertEqual(eur.paycrm_profile_currency_id, self.eur)
        self.assertAlmostEqual(eur.paycrm_lifetime_paid, 0.0)
        self.assertAlmostEqual(eur.paycrm_open_amount, 250.0)
        self.assertAlmostEqual(eur.paycrm_overdue_amount, 250.0)
        self.assertEqual(eur.paycrm_paid_count_12m, 0)
        self.assertEqual(eur.paycrm_oldest_overdue_days, 10)
        # Searches and filters read the current company's figures.
        partners = self.env["res.partner"].with_company(self.company_eur)
        self.assertIn(
            self.customer, partners.search([("paycrm_open_amount", "=", 250.0)])
        )
        self.assertNotIn(
            self.customer,
            partners.with_company(usd_company).search(
                [("paycrm_open_amount", "=", 250.0)]
            ),
        )

    def test_foreign_invoice_counted_at_the_rates_of_its_dates(self):
        # 300 EUR invoiced in 2016 (100 USD), paid in 2017 (150 USD).
        invoice = self._invoice_on(
            300, "2016-06-01", "2016-07-01", currency=self.eur, company=self.company
        )
        self.customer._paycrm_recompute_profiles()
        usd = self._profile(self.company)
        self.assertAlmostEqual(usd.paycrm_open_amount, 100.0)
        self._pay(invoice, "2017-06-01", company=self.company)
        self.customer._paycrm_recompute_profiles()
        self.assertAlmostEqual(usd.paycrm_lifetime_paid, 150.0)
        self.assertAlmostEqual(usd.paycrm_open_amount, 0.0)

    @freeze_time("2017-06-30")
    def test_profile_of_a_company_without_history_is_cleared(self):
        invoice = self._invoice_on(
            250, "2017-06-01", "2017-06-20", company=self.company_eur
        )
        self.customer._paycrm_recompute_profiles()
        self.assertTrue(self._profile(self.company_eur).paycrm_risk_rating)
        invoice.button_draft()
        invoice.button_cancel()
        self.customer._paycrm_recompute_profiles()
        eur = self._profile(self.company_eur)
        self.assertFalse(eur.paycrm_risk_rating)
        self.assertAlmostEqual(eur.paycrm_open_amount, 0.0)
        self.assertFalse(self._profile(self.company).paycrm_risk_rating)

    @freeze_time("2017-06-30")
    def test_predicted_pay_date_uses_the_invoice_company_profile(self):
        usd_company = self.company
        for month in (1, 2, 3):
            late = self._invoice_on(
                100, f"2017-0{month}-01", f"2017-0{month}-10", company=usd_company
            )
            self._pay(late, f"2017-0{month + 1}-09", company=usd_company)  # ~30 late
        self.customer._paycrm_recompute_profiles()
        self.assertGreater(self._profile(usd_company).paycrm_predict_delay_days, 25)
        self.assertEqual(self._profile(self.company_eur).paycrm_predict_delay_days, 0)
        due = fields.Date.to_date("2017-08-01")
        eur_invoice = self._invoice_on(50, "2017-06-25", due, company=self.company_eur)
        self.assertEqual(eur_invoice.paycrm_predicted_pay_date, due)


@tagged("post_install", "-at_install")
class TestGatewayAnalysisCurrency(WebhookCommon):
    def _pay(self, invoice, minor, ref):
        event = self._demo_payment(invoice, minor, ref=ref)
        payload = self.demo_gateway._paycrm_adapter().payload(event)
        self.events._paycrm_store(self.demo_gateway, payload, event)
        self._process()

    def test_foreign_payments_summed_in_company_currency(self):
        eur = self.setup_other_currency("EUR")  # 2.0 per USD today
        self._pay(self._invoice(100.0), 10000, "demo_pay_usd")
        self._pay(self._invoice(100.0, currency=eur), 10000, "demo_pay_eur")
        self.env.flush_all()
        analysis = self.env["paycrm.gateway.analysis"]
        rows = analysis.search([("gateway_id", "=", self.demo_gateway.id)])
        self.assertEqual(rows.currency_id, self.company.currency_id)
        [(total, fees)] = analysis._read_group(
            [("gateway_id", "=", self.demo_gateway.id)],
            aggregates=["amount:sum", "fee_amount:sum"],
        )
        self.assertAlmostEqual(total, 150.0)  # 100 USD + 100 EUR at 2.0
        self.assertAlmostEqual(fees, 1.75 + 0.88)  # 1.75 EUR fee: 0.875 USD
