from odoo import api, fields, models
from odoo.tools import SQL

from .sql_view import replace_view

# A reminder "worked" when the invoice was paid within this many days of it.
EFFECT_DAYS = 7


class PaycrmReminderAnalysis(models.Model):
    """One row per reminder sent, with whether the invoice was paid soon after."""

    _name = "paycrm.reminder.analysis"
    _description = "Reminder Effectiveness"
    _auto = False
    _order = "sent_date desc"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    policy_id = fields.Many2one("paycrm.reminder.policy", readonly=True)
    stage_id = fields.Many2one("paycrm.reminder.stage", readonly=True)
    invoice_id = fields.Many2one("account.move", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    channel = fields.Selection(
        [("email", "Email"), ("sms", "SMS"), ("both", "Email and SMS")],
        readonly=True,
    )
    sent_date = fields.Date(readonly=True)
    paid_date = fields.Date(readonly=True)
    amount_residual = fields.Monetary(string="Open Now", readonly=True)
    reminder_count = fields.Integer(string="Reminders", readonly=True)
    paid_7_count = fields.Integer(
        string="Paid within 7 Days", readonly=True,
        help="Reminders after which the invoice was paid within 7 days.",
    )  # fmt: skip
    paid_7_rate = fields.Float(
        string="Paid within 7 Days (%)",
        aggregator="avg",
        readonly=True,
        help="100 when the invoice was paid within 7 days of the reminder, else "
        "0: its average over a stage is the stage's effectiveness.",
    )

    @api.model
    def _paycrm_query(self):
        return SQL(
            """
            WITH logs AS (
                SELECT log.id, log.company_id, c.currency_id, st.policy_id,
                       log.stage_id, log.invoice_id, m.commercial_partner_id,
                       log.channel, log.sent_at::date AS sent_date,
                       m.amount_residual_signed,
                       CASE WHEN m.payment_state IN ('paid', 'in_payment')
                            THEN (SELECT MAX(apr.max_date)
                                    FROM account_move_line l
                                    JOIN account_partial_reconcile apr
                                      ON apr.debit_move_id = l.id
                                   WHERE l.move_id = m.id
                                     AND l.display_type = 'payment_term')
                       END AS paid_date
                  FROM paycrm_reminder_log log
                  JOIN account_move m ON m.id = log.invoice_id
                  JOIN paycrm_reminder_stage st ON st.id = log.stage_id
                  JOIN res_company c ON c.id = log.company_id
                 WHERE log.result IN ('sent', 'fallback')
            )
            SELECT id, company_id, currency_id, policy_id, stage_id, invoice_id,
                   commercial_partner_id AS partner_id, channel, sent_date,
                   paid_date, amount_residual_signed AS amount_residual,
                   1 AS reminder_count,
                   COALESCE((paid_date BETWEEN sent_date
                                      AND sent_date + %(days)s)::int, 0)
                       AS paid_7_count,
                   CASE WHEN paid_date BETWEEN sent_date AND sent_date + %(days)s
                        THEN 100.0 ELSE 0.0 END AS paid_7_rate
              FROM logs
            """,
            days=EFFECT_DAYS,
        )

    def init(self):
        replace_view(self)
