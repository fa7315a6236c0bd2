"""Payment profile of a customer: stored fields, triggers, cron, smart buttons.

Kept apart from ``res_partner.py`` (contact and gateway sync) because it is a
concern of its own. The figures come from set-based SQL in
``res_partner_profile_figures.py``; the rating from ``res_partner_profile_rating.py``.
Nothing is computed on read: payments, credit notes, posting, reminder logs
and gateway events queue the customer, and one recompute runs before COMMIT.
"""

import logging

from odoo import _, api, fields, models
from odoo.tools import SQL

from .. import const

_logger = logging.getLogger(__name__)

PROFILE_BATCH = 1000
PRECOMMIT_KEY = "paycrm.profile_partner_ids"


class ResPartner(models.Model):
    _inherit = "res.partner"

    paycrm_profile_currency_id = fields.Many2one(
        "res.currency",
        string="Profile Currency",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_lifetime_paid = fields.Monetary(
        string="Lifetime Paid",
        currency_field="paycrm_profile_currency_id",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Amount received against this customer's invoices, all time, in "
        "company currency (settlements by credit notes excluded).",
    )
    paycrm_open_amount = fields.Monetary(
        string="Open Amount",
        currency_field="paycrm_profile_currency_id",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_overdue_amount = fields.Monetary(
        string="Overdue Amount",
        currency_field="paycrm_profile_currency_id",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_oldest_overdue_days = fields.Integer(
        string="Oldest Overdue (days)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_paid_count_12m = fields.Integer(
        string="Invoices Paid (12 months)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_avg_days_to_pay = fields.Float(
        string="Avg Days to Pay",
        digits=(16, 1),
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Mean of (payment date - invoice date) over invoices paid in the "
        "last 12 months. The payment date is the date of the reconciliation "
        "that settled the invoice.",
    )
    paycrm_avg_days_late = fields.Float(
        string="Avg Days Late",
        digits=(16, 1),
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Mean of max(0, payment date - due date) over invoices paid in the "
        "last 12 months.",
    )
    paycrm_on_time_rate = fields.Float(
        string="On-time Rate (%)",
        digits=(16, 1),
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Of the invoices that fell due in the last 12 months, the share "
        "paid on or before their due date (open ones count as not on time).",
    )
    paycrm_due_count_12m = fields.Integer(
        string="Invoices Due (12 months)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_dso = fields.Float(
        string="DSO (days)",
        digits=(16, 1),
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Days sales outstanding, countback method over the last 90 days. "
        "AR = open invoice balance today; S1, S2, S3 = invoiced in the last "
        "30 days, 31-60 and 61-90 days ago. Walking back from today, each "
        "30-day period whose sales AR still exceeds counts 30 days and is "
        "taken off AR; the first period that covers the rest counts "
        "30 x rest / its sales: e.g. AR 1,500, S1 1,000, S2 1,000 gives "
        "30 + 30 x 500 / 1,000 = 45. Capped at 90 when three periods of sales "
        "do not cover AR; 0 without open invoices.",
    )
    paycrm_last_payment_date = fields.Date(
        string="Last Payment",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_reminder_count_12m = fields.Integer(
        string="Reminders (12 months)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_reminder_response_rate = fields.Float(
        string="Reminder Responsiveness (%)",
        digits=(16, 1),
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Share of the reminders sent in the last 12 months that were "
        "followed by payment within their policy's attribution window.",
    )
    paycrm_risk_rating = fields.Selection(
        const.RISK_RATINGS,
        string="Payment Rating",
        readonly=True,
        index=True,
        groups="paycrm_connector.group_paycrm_user",
        help="A to D, from average lateness, on-time rate and the oldest overdue "
        "invoice; thresholds in Accounting settings. Empty without invoices.",
    )
    paycrm_risk_reasons = fields.Char(
        string="Rating Reasons",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_predict_delay_days = fields.Integer(
        string="Predicted Delay (days)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Days after the due date this customer is expected to pay: its own "
        "mean lateness over the last 12 months, or the company-wide one while "
        "it has fewer paid invoices than the minimum history.",
    )
    paycrm_failed_attempts_30d = fields.Integer(
        string="Failed Payments (30 days)",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Failed gateway payment attempts on this customer's invoices in the "
        "last 30 days.",
    )
    paycrm_preferred_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Preferred Gateway",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Gateway of most of this customer's successful payments (12 months).",
    )
    paycrm_profile_date = fields.Date(
        string="Profile Computed On",
        readonly=True,
        groups="paycrm_connector.group_paycrm_user",
    )

    # Triggers ---------------------------------------------------------------

    @api.model
    def _paycrm_profile_touch(self, partner_ids):
        """Queue the commercial partners of ``partner_ids`` for one recompute
        just before the transaction commits (a batch of payments registers
        hundreds of partials: the profile is recomputed once, not per line)."""
        ids = {pid for pid in partner_ids if pid}
        if not ids:
            return
        data = self.env.cr.precommit.data
        queued = data.get(PRECOMMIT_KEY)
        if queued is None:
            queued = data[PRECOMMIT_KEY] = set()
            self.env.cr.precommit.add(self._paycrm_profile_flush_queue)
        queued.update(ids)

    @api.model
    def _paycrm_profile_flush_queue(self):
        ids = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, set())
        # sudo: the trigger runs as whoever paid or posted; the profile is
        # derived data that user may not be allowed to write on the contact.
        partners = self.sudo().browse(ids).exists().commercial_partner_id
        try:
            with self.env.cr.savepoint():
                partners._paycrm_recompute_profiles()
                # Called after the main flush, just before COMMIT: flush our writes.
                self.env.flush_all()
        except Exception:  # noqa: BLE001 - derived data must never undo a payment
            _logger.exception("paycrm profiles: recompute failed, nightly cron retries")

    @api.model
    def _cron_paycrm_recompute_profiles(self):
        """Nightly: every customer with invoices, since 'overdue' and the
        12-month windows move with the calendar even when no record changes."""
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT commercial_partner_id FROM account_move
                    WHERE move_type = 'out_invoice' AND state = 'posted'"""
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.env["paycrm.reminder.log"]._paycrm_credit_payments()
        for start in range(0, len(ids), PROFILE_BATCH):
            self.browse(ids[start : start + PROFILE_BATCH])._paycrm_recompute_profiles()
            self.env["ir.cron"]._notify_progress(
                done=min(start + PROFILE_BATCH, len(ids)),
                remaining=max(len(ids) - start - PROFILE_BATCH, 0),
            )
        # Predicted dates of open invoices are clamped to today: refresh them.
        moves = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        self.env.add_to_compute(moves._fields["paycrm_predicted_pay_date"], moves)
        self.env.flush_all()

    # Smart buttons ----------------------------------------------------------

    def action_paycrm_open_invoices(self):
        return self._paycrm_invoice_action(
            _("Open Invoices"), [("payment_state", "in", ("not_paid", "partial"))]
        )

    def action_paycrm_overdue_invoices(self):
        today = fields.Date.context_today(self)
        return self._paycrm_invoice_action(
            _("Overdue Invoices"),
            [
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ],
        )

    def _paycrm_invoice_action(self, name, domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            name=name,
            domain=[
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                *domain,
            ],
            context={"create": False},
        )
        return action
