from odoo import api, fields, models
from odoo.tools import SQL

from .sql_view import replace_view


class PaycrmLinkFunnelAnalysis(models.Model):
    """One row per customer invoice whose payment link was sent: was it
    opened, was the invoice paid (the sent -> opened -> paid funnel)."""

    _name = "paycrm.link.funnel.analysis"
    _description = "Payment Link Funnel"
    _auto = False
    _order = "sent_date desc"
    _rec_name = "invoice_id"

    invoice_id = fields.Many2one("account.move", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    gateway_id = fields.Many2one(
        "paycrm.gateway",
        readonly=True,
        help="The gateway the invoice was paid through, else the invoice's own.",
    )
    sent_date = fields.Datetime(string="First Sent", readonly=True)
    opened_date = fields.Datetime(string="First Opened", readonly=True)
    amount_total = fields.Monetary(string="Invoiced", readonly=True)
    send_count = fields.Integer(
        string="Sends", readonly=True, help="Emails, SMS and reminders carrying it."
    )
    sent_count = fields.Integer(string="Sent", readonly=True)
    opened_count = fields.Integer(string="Opened", readonly=True)
    paid_count = fields.Integer(string="Paid", readonly=True)
    paid_online_count = fields.Integer(
        string="Paid Online",
        readonly=True,
        help="Paid through one of the link's checkout sessions.",
    )
    open_rate = fields.Float(
        string="Opened (%)",
        aggregator="avg",
        readonly=True,
        help="100 for an invoice whose link was opened, else 0: its average over "
        "a group is the share of sent links opened.",
    )
    paid_rate = fields.Float(
        string="Paid (%)",
        aggregator="avg",
        readonly=True,
        help="100 for a paid invoice, else 0: the share of sent links paid.",
    )
    opened_paid_rate = fields.Float(
        string="Paid after Opening (%)",
        aggregator="avg",
        readonly=True,
        help="Of the opened links, the share paid (empty for unopened ones).",
    )

    @api.model
    def _paycrm_query(self):
        return SQL(
            """
            WITH sent AS (
                SELECT m.id, m.company_id, c.currency_id,
                       m.commercial_partner_id, m.paycrm_gateway_id,
                       m.paycrm_link_first_sent, m.paycrm_link_first_opened,
                       m.paycrm_link_sent_count, m.amount_total_signed,
                       m.paycrm_link_first_opened IS NOT NULL AS opened,
                       m.payment_state IN ('paid', 'in_payment') AS paid
                  FROM account_move m
                  JOIN res_company c ON c.id = m.company_id
                 WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
                   AND m.paycrm_link_first_sent IS NOT NULL
            ), online AS (
                SELECT DISTINCT ON (move_id) move_id, gateway_id
                  FROM paycrm_link
                 WHERE state = 'paid'
                 ORDER BY move_id, id DESC
            )
            SELECT s.id, s.id AS invoice_id, s.company_id, s.currency_id,
                   s.commercial_partner_id AS partner_id,
                   COALESCE(o.gateway_id, s.paycrm_gateway_id) AS gateway_id,
                   s.paycrm_link_first_sent AS sent_date,
                   s.paycrm_link_first_opened AS opened_date,
                   s.amount_total_signed AS amount_total,
                   s.paycrm_link_sent_count AS send_count,
                   1 AS sent_count,
                   s.opened::int AS opened_count,
                   s.paid::int AS paid_count,
                   (o.move_id IS NOT NULL)::int AS paid_online_count,
                   CASE WHEN s.opened THEN 100.0 ELSE 0.0 END AS open_rate,
                   CASE WHEN s.paid THEN 100.0 ELSE 0.0 END AS paid_rate,
                   CASE WHEN s.opened AND s.paid THEN 100.0
                        WHEN s.opened THEN 0.0 END AS opened_paid_rate
              FROM sent s
              LEFT JOIN online o ON o.move_id = s.id
            """
        )

    def init(self):
        replace_view(self)
