from odoo import api, fields, models
from odoo.tools import SQL

from .sql_view import replace_view

STATUSES = [
    ("on_time", "Paid on time"),
    ("late", "Paid late"),
    ("missed", "Overdue, unpaid"),
    ("open", "Open, not due"),
    ("settled", "Settled by credit note"),
]


class PaycrmInvoiceAnalysis(models.Model):
    """One row per posted customer invoice with when and how it was paid."""

    _name = "paycrm.invoice.analysis"
    _description = "Invoice Payment Analysis"
    _auto = False
    _order = "due_date desc"
    _rec_name = "invoice_id"

    invoice_id = fields.Many2one("account.move", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    invoice_date = fields.Date(readonly=True)
    due_date = fields.Date(readonly=True)
    paid_date = fields.Date(readonly=True)
    status = fields.Selection(STATUSES, readonly=True)
    amount_total = fields.Monetary(string="Invoiced", readonly=True)
    amount_residual = fields.Monetary(string="Open", readonly=True)
    days_to_pay = fields.Integer(string="Days to Pay", aggregator="avg", readonly=True)
    days_late = fields.Integer(
        aggregator="avg",
        readonly=True,
        help="Paid invoices: max(0, payment date - due date).",
    )
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    late_count = fields.Integer(string="Paid Late", readonly=True)
    missed_count = fields.Integer(string="Overdue Unpaid", readonly=True)
    on_time_rate = fields.Float(
        string="On-time Rate (%)",
        aggregator="avg",
        readonly=True,
        help="100 for an invoice paid by its due date, 0 for one paid late or "
        "overdue; its average over a group is the group's on-time rate.",
    )

    @api.model
    def _paycrm_query(self):
        return SQL(
            """
            WITH inv AS (
                SELECT m.id, m.company_id, c.currency_id,
                       m.commercial_partner_id, m.invoice_user_id,
                       m.invoice_date,
                       COALESCE(m.invoice_date_due, m.invoice_date) AS due_date,
                       m.amount_total_signed, m.amount_residual_signed,
                       m.payment_state,
                       CASE WHEN m.payment_state IN ('paid', 'in_payment')
                            THEN rec.paid_date END AS paid_date
                  FROM account_move m
                  JOIN res_company c ON c.id = m.company_id
                  -- One hash join over all settlements, not a lookup per row.
                  LEFT JOIN (
                        SELECT l.move_id, MAX(apr.max_date) AS paid_date
                          FROM account_move_line l
                          JOIN account_partial_reconcile apr
                            ON apr.debit_move_id = l.id
                         WHERE l.display_type = 'payment_term'
                         GROUP BY l.move_id
                  ) rec ON rec.move_id = m.id
                 WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
            ), classified AS (
                SELECT inv.*,
                       CASE WHEN paid_date IS NOT NULL AND paid_date <= due_date
                                THEN 'on_time'
                            WHEN paid_date IS NOT NULL THEN 'late'
                            WHEN payment_state IN ('not_paid', 'partial')
                                 AND due_date < CURRENT_DATE THEN 'missed'
                            WHEN payment_state IN ('not_paid', 'partial')
                                THEN 'open'
                            ELSE 'settled'
                       END AS status
                  FROM inv
            )
            SELECT id, id AS invoice_id, company_id, currency_id,
                   commercial_partner_id AS partner_id, invoice_user_id AS user_id,
                   invoice_date, due_date, paid_date, status,
                   amount_total_signed AS amount_total,
                   amount_residual_signed AS amount_residual,
                   paid_date - invoice_date AS days_to_pay,
                   CASE WHEN paid_date IS NOT NULL
                        THEN GREATEST(paid_date - due_date, 0) END AS days_late,
                   1 AS invoice_count,
                   (status = 'late')::int AS late_count,
                   (status = 'missed')::int AS missed_count,
                   CASE WHEN status = 'on_time' THEN 100.0
                        WHEN status IN ('late', 'missed') THEN 0.0
                   END AS on_time_rate
              FROM classified
            """
        )

    def init(self):
        replace_view(self)
