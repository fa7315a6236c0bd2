from odoo import api, fields, models
from odoo.tools import SQL

from .sql_view import replace_view


class PaycrmGatewayAnalysis(models.Model):
    """One row per processed gateway payment or refund event: success rate and
    fees by gateway, payment method and month."""

    _name = "paycrm.gateway.analysis"
    _description = "Gateway Payments Analysis"
    _auto = False
    _order = "date desc"

    company_id = fields.Many2one("res.company", readonly=True)
    gateway_id = fields.Many2one("paycrm.gateway", readonly=True)
    provider = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    payment_method = fields.Char(
        readonly=True, help="As the gateway reported it (card, sepa_debit, paypal...)."
    )
    card_country_id = fields.Many2one("res.country", readonly=True)
    date = fields.Datetime(readonly=True)
    kind = fields.Selection(
        [
            ("payment_succeeded", "Payment succeeded"),
            ("payment_failed", "Payment failed"),
            ("refund_succeeded", "Refund"),
        ],
        readonly=True,
    )
    attempt_count = fields.Integer(string="Payment Attempts", readonly=True)
    succeeded_count = fields.Integer(string="Succeeded", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)
    success_rate = fields.Float(
        string="Success Rate (%)",
        aggregator="avg",
        readonly=True,
        help="100 for a succeeded attempt, 0 for a failed one (refunds excluded): "
        "its average over a group is the group's success rate.",
    )
    # One company's events are summed in its currency only: each event's
    # amounts as the entry that booked it holds them in company currency.
    amount = fields.Monetary(
        string="Collected",
        readonly=True,
        help="In the company's currency: a payment in another currency counts "
        "at the rate of its date (the rate of the entry that booked it).",
    )
    refunded = fields.Monetary(
        readonly=True,
        help="In the company's currency, at the rate of the refund's date.",
    )
    fee_amount = fields.Monetary(
        string="Fees",
        readonly=True,
        help="In the company's currency, at the rate of the payment's date.",
    )

    @api.model
    def _paycrm_query(self):
        return SQL(
            """
            SELECT e.id, e.company_id, e.gateway_id, g.provider,
                   m.commercial_partner_id AS partner_id, c.currency_id,
                   e.payment_method, e.card_country_id,
                   COALESCE(e.created, e.create_date) AS date, e.kind,
                   (e.kind != 'refund_succeeded')::int AS attempt_count,
                   (e.kind = 'payment_succeeded')::int AS succeeded_count,
                   (e.kind = 'payment_failed')::int AS failed_count,
                   CASE e.kind WHEN 'payment_succeeded' THEN 100.0
                               WHEN 'payment_failed' THEN 0.0 END AS success_rate,
                   CASE WHEN e.kind = 'payment_succeeded'
                        THEN COALESCE(-r.receivable, 0) ELSE 0 END AS amount,
                   CASE WHEN e.kind = 'refund_succeeded'
                        THEN COALESCE(r.receivable, 0) ELSE 0 END AS refunded,
                   COALESCE(r.fee, 0) AS fee_amount
              FROM paycrm_event e
              JOIN paycrm_gateway g ON g.id = e.gateway_id
              JOIN res_company c ON c.id = e.company_id
              LEFT JOIN account_move m ON m.id = e.invoice_id
              -- The booked entry in company currency: its customer line (the
              -- money received or refunded) and its fee line.
              LEFT JOIN LATERAL (
                   SELECT SUM(l.balance) FILTER (
                              WHERE a.account_type = 'asset_receivable') AS receivable,
                          SUM(l.balance) FILTER (
                              WHERE l.account_id = g.fee_account_id) AS fee
                     FROM account_move_line l
                     JOIN account_account a ON a.id = l.account_id
                    WHERE l.move_id = e.move_id
              ) r ON TRUE
             WHERE e.state = 'done'
               AND e.kind IN ('payment_succeeded', 'payment_failed',
                              'refund_succeeded')
            """
        )

    def init(self):
        replace_view(self)
