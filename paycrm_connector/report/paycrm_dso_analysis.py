from odoo import api, fields, models
from odoo.tools import SQL

from .sql_view import replace_view


class PaycrmDsoAnalysis(models.Model):
    """DSO at each month end (today for the current month), per company."""

    _name = "paycrm.dso.analysis"
    _description = "DSO Trend"
    _auto = False
    _order = "date desc"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(string="Month End", readonly=True)
    receivable = fields.Monetary(
        aggregator="avg", readonly=True,
        help="Open customer invoices at that date (invoiced minus settled).",
    )  # fmt: skip
    sales_90 = fields.Monetary(
        string="Invoiced (90 days)", aggregator="avg", readonly=True
    )
    dso = fields.Float(
        string="DSO (days)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Countback method over the 90 days before the date, as on the "
        "customer payment profile: each 30-day period whose sales the "
        "receivable still exceeds counts 30 days, the period that covers the "
        "rest counts 30 x rest / its sales; 90 when 90 days do not cover it.",
    )

    @api.model
    def _paycrm_query(self):
        return SQL(
            """
            WITH inv AS (
                SELECT id, company_id, invoice_date, amount_total_signed
                  FROM account_move
                 WHERE move_type = 'out_invoice' AND state = 'posted'
            ), daily AS (
                SELECT company_id, day, SUM(sales) AS sales,
                       SUM(settled) AS settled
                  FROM (
                        SELECT company_id, invoice_date AS day,
                               amount_total_signed AS sales, 0 AS settled
                          FROM inv
                        UNION ALL
                        SELECT inv.company_id, apr.max_date, 0, apr.amount
                          FROM inv
                          JOIN account_move_line l
                            ON l.move_id = inv.id
                           AND l.display_type = 'payment_term'
                          JOIN account_partial_reconcile apr
                            ON apr.debit_move_id = l.id
                  ) flows
                 GROUP BY company_id, day
            ), months AS (
                SELECT company_id,
                       LEAST((month + INTERVAL '1 month - 1 day')::date,
                             CURRENT_DATE) AS month_end
                  FROM (SELECT company_id,
                               generate_series(date_trunc('month', MIN(day)),
                                               date_trunc('month', CURRENT_DATE),
                                               INTERVAL '1 month') AS month
                          FROM daily GROUP BY company_id) series
            ), figures AS (
                SELECT mo.company_id, mo.month_end,
                       SUM(d.sales - d.settled) AS ar,
                       COALESCE(SUM(d.sales) FILTER (
                           WHERE d.day > mo.month_end - 30), 0) AS s1,
                       COALESCE(SUM(d.sales) FILTER (
                           WHERE d.day > mo.month_end - 60
                             AND d.day <= mo.month_end - 30), 0) AS s2,
                       COALESCE(SUM(d.sales) FILTER (
                           WHERE d.day > mo.month_end - 90
                             AND d.day <= mo.month_end - 60), 0) AS s3
                  FROM months mo
                  JOIN daily d ON d.company_id = mo.company_id
                              AND d.day <= mo.month_end
                 GROUP BY mo.company_id, mo.month_end
            )
            SELECT row_number() OVER (ORDER BY f.company_id, f.month_end) AS id,
                   f.company_id, c.currency_id, f.month_end AS date,
                   f.ar AS receivable, f.s1 + f.s2 + f.s3 AS sales_90,
                   CASE WHEN f.ar <= 0 THEN 0
                        WHEN f.s1 >= f.ar THEN 30 * f.ar / f.s1
                        WHEN f.s1 + f.s2 >= f.ar THEN 30 + 30 * (f.ar - f.s1) / f.s2
                        WHEN f.s1 + f.s2 + f.s3 >= f.ar
                            THEN 60 + 30 * (f.ar - f.s1 - f.s2) / f.s3
                        ELSE 90
                   END AS dso
              FROM figures f
              JOIN res_company c ON c.id = f.company_id
            """
        )

    def init(self):
        replace_view(self)
