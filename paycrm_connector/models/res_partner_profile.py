"""Payment profile of a customer: stored figures, recomputed in batches.

Kept apart from ``res_partner.py`` (contact and gateway sync) because it is a
concern of its own: a few set-based SQL aggregates over invoices, partials and
reminder logs, turned into stored fields by ``_paycrm_recompute_profiles``.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from .. import const

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
        partners._paycrm_recompute_profiles()
        # Called after the main flush, just before COMMIT: flush our own writes.
        self.env.flush_all()

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

    # Computation ------------------------------------------------------------

    def _paycrm_recompute_profiles(self):
        """Recompute the payment profile of these (commercial) partners.

        Three set-based queries per batch of partners (invoice figures, reminder
        figures, company-wide lateness), then one write per partner."""
        partners = self.commercial_partner_id
        if not partners:
            return
        today = fields.Date.context_today(self)
        settings = self._paycrm_profile_settings()
        company_delay = self._paycrm_company_delay(today)
        currency = self.env.company.currency_id
        for start in range(0, len(partners), PROFILE_BATCH):
            batch = partners[start : start + PROFILE_BATCH]
            figures = self._paycrm_profile_figures(batch.ids, today)
            reminders = self._paycrm_reminder_figures(batch.ids, today)
            for partner in batch.with_context(tracking_disable=True):
                row = figures.get(partner.id, {})
                sent, credited = reminders.get(partner.id, (0, 0))
                vals = partner._paycrm_profile_values(row, settings, company_delay)
                vals.update(
                    paycrm_profile_currency_id=currency.id,
                    paycrm_reminder_count_12m=sent,
                    paycrm_reminder_response_rate=100.0 * credited / sent
                    if sent
                    else 0.0,
                    paycrm_profile_date=today,
                )
                partner.write(vals)

    @api.model
    def _paycrm_profile_settings(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        return {
            key: int(get(const.ICP_PREFIX + key, default))
            for key, default in const.PROFILE_DEFAULTS.items()
        }

    @api.model
    def _paycrm_company_delay(self, today):
        """Mean signed lateness of every invoice paid in the last 12 months."""
        self.env.cr.execute(
            SQL(
                """%s SELECT COALESCE(AVG(paid_date - due_date), 0)
                     FROM settled WHERE paid_date > %s""",
                self._paycrm_settled_cte(None),
                today - timedelta(days=365),
            )
        )
        return round(self.env.cr.fetchone()[0])

    @api.model
    def _paycrm_settled_cte(self, partner_ids):
        """``settled``: one row per posted customer invoice with its due date and,
        when paid, the date of the reconciliation that settled it."""
        where = SQL("TRUE")
        if partner_ids is not None:
            where = SQL("m.commercial_partner_id = ANY(%s)", partner_ids)
        return SQL(
            """WITH settled AS (
                 SELECT m.id, m.commercial_partner_id AS partner_id,
                        m.invoice_date,
                        COALESCE(m.invoice_date_due, m.invoice_date) AS due_date,
                        m.amount_total_signed, m.amount_residual_signed,
                        m.payment_state,
                        CASE WHEN m.payment_state IN ('paid', 'in_payment')
                             THEN rec.paid_date END AS paid_date,
                        rec.received, rec.last_received
                   FROM account_move m
                   LEFT JOIN LATERAL (
                        SELECT MAX(apr.max_date) AS paid_date,
                               SUM(apr.amount) FILTER (
                                   WHERE cm.move_type != 'out_refund') AS received,
                               MAX(apr.max_date) FILTER (
                                   WHERE cm.move_type != 'out_refund') AS last_received
                          FROM account_move_line l
                          JOIN account_partial_reconcile apr
                            ON apr.debit_move_id = l.id
                          JOIN account_move_line cl ON cl.id = apr.credit_move_id
                          JOIN account_move cm ON cm.id = cl.move_id
                         WHERE l.move_id = m.id
                           AND l.display_type = 'payment_term'
                   ) rec ON TRUE
                  WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
                    AND %s
               )""",
            where,
        )

    @api.model
    def _paycrm_profile_figures(self, partner_ids, today):
        year_ago = today - timedelta(days=365)
        period = const.DSO_PERIOD_DAYS
        open_ = SQL("payment_state IN ('not_paid', 'partial')")
        paid_12m = SQL("paid_date > %s", year_ago)
        due_12m = SQL("due_date > %s AND due_date <= %s", year_ago, today)
        sales = [
            SQL(
                "COALESCE(SUM(amount_total_signed) FILTER (WHERE invoice_date > %s "
                "AND invoice_date <= %s), 0)",
                today - timedelta(days=period * (k + 1)),
                today - timedelta(days=period * k),
            )
            for k in range(const.DSO_PERIODS)
        ]
        self.env.cr.execute(
            SQL(
                """%(cte)s
                SELECT partner_id,
                       COALESCE(SUM(received), 0),
                       COALESCE(SUM(amount_residual_signed) FILTER (WHERE %(open)s), 0),
                       COALESCE(SUM(amount_residual_signed)
                                FILTER (WHERE %(open)s AND due_date < %(today)s), 0),
                       COALESCE(MAX(%(today)s - due_date)
                                FILTER (WHERE %(open)s AND due_date < %(today)s), 0),
                       MAX(last_received),
                       COUNT(*) FILTER (WHERE %(paid)s),
                       AVG(paid_date - invoice_date) FILTER (WHERE %(paid)s),
                       AVG(GREATEST(paid_date - due_date, 0)) FILTER (WHERE %(paid)s),
                       AVG(paid_date - due_date) FILTER (WHERE %(paid)s),
                       COUNT(*) FILTER (WHERE %(due)s),
                       COUNT(*) FILTER (WHERE %(due)s AND paid_date <= due_date),
                       %(s1)s, %(s2)s, %(s3)s
                  FROM settled GROUP BY partner_id""",
                cte=self._paycrm_settled_cte(partner_ids),
                open=open_,
                today=today,
                paid=paid_12m,
                due=due_12m,
                s1=sales[0],
                s2=sales[1],
                s3=sales[2],
            )
        )
        keys = (
            "received open overdue oldest last_paid paid_count avg_to_pay "
            "avg_late avg_signed due_count on_time s1 s2 s3"
        ).split()
        return {
            row[0]: dict(zip(keys, row[1:], strict=True))
            for row in self.env.cr.fetchall()
        }

    @api.model
    def _paycrm_reminder_figures(self, partner_ids, today):
        self.env.cr.execute(
            SQL(
                """SELECT m.commercial_partner_id, COUNT(*),
                          COUNT(*) FILTER (WHERE log.paid_within_window)
                     FROM paycrm_reminder_log log
                     JOIN account_move m ON m.id = log.invoice_id
                    WHERE m.commercial_partner_id = ANY(%s)
                      AND log.result IN ('sent', 'fallback')
                      AND log.sent_at > %s
                    GROUP BY m.commercial_partner_id""",
                partner_ids,
                today - timedelta(days=365),
            )
        )
        return {pid: (sent, credited) for pid, sent, credited in self.env.cr.fetchall()}

    @staticmethod
    def _paycrm_dso(receivable, sales):
        """Countback DSO (see the field help) from AR and per-period sales,
        most recent period first."""
        if receivable <= 0:
            return 0.0
        days = 0.0
        for period_sales in sales:
            if period_sales >= receivable:
                return days + const.DSO_PERIOD_DAYS * receivable / period_sales
            receivable -= max(period_sales, 0)
            days += const.DSO_PERIOD_DAYS
        return days

    def _paycrm_profile_values(self, row, settings, company_delay):
        self.ensure_one()
        paid_count = row.get("paid_count") or 0
        due_count = row.get("due_count") or 0
        own_history = paid_count >= settings["profile_min_history"]
        avg_late = float(row.get("avg_late") or 0.0)
        on_time = 100.0 * row["on_time"] / due_count if due_count else 0.0
        rating, reasons = self._paycrm_risk(
            settings,
            has_invoices=bool(row),
            own_history=own_history,
            avg_late=avg_late,
            on_time=on_time if due_count >= settings["profile_min_history"] else None,
            oldest=row.get("oldest") or 0,
        )
        return {
            "paycrm_lifetime_paid": row.get("received") or 0.0,
            "paycrm_open_amount": row.get("open") or 0.0,
            "paycrm_overdue_amount": row.get("overdue") or 0.0,
            "paycrm_oldest_overdue_days": row.get("oldest") or 0,
            "paycrm_last_payment_date": row.get("last_paid"),
            "paycrm_paid_count_12m": paid_count,
            "paycrm_avg_days_to_pay": float(row.get("avg_to_pay") or 0.0),
            "paycrm_avg_days_late": avg_late,
            "paycrm_due_count_12m": due_count,
            "paycrm_on_time_rate": on_time,
            "paycrm_dso": self._paycrm_dso(
                float(row.get("open") or 0.0),
                [float(row.get(k) or 0.0) for k in ("s1", "s2", "s3")],
            ),
            "paycrm_risk_rating": rating,
            "paycrm_risk_reasons": reasons,
            "paycrm_predict_delay_days": round(row["avg_signed"])
            if own_history
            else company_delay,
        }

    @api.model
    def _paycrm_risk(
        self, settings, has_invoices, own_history, avg_late, on_time, oldest
    ):
        """(rating, reasons): the worst grade any rule reaches, with the
        reasons of that grade. Lateness and on-time rules need own history."""
        if not has_invoices:
            return False, False
        s = settings
        rules = [
            ("D", oldest > s["risk_d_overdue_days"], _(
                "An invoice is %(days)s days overdue (over %(limit)s)",
                days=oldest, limit=s["risk_d_overdue_days"])),
            ("C", oldest > s["risk_c_overdue_days"], _(
                "An invoice is %(days)s days overdue (over %(limit)s)",
                days=oldest, limit=s["risk_c_overdue_days"])),
        ]  # fmt: skip
        if own_history:
            late = round(avg_late, 1)
            rules += [
                ("D", avg_late > s["risk_d_days_late"], _(
                    "Pays %(days)s days late on average (over %(limit)s)",
                    days=late, limit=s["risk_d_days_late"])),
                ("C", avg_late > s["risk_c_days_late"], _(
                    "Pays %(days)s days late on average (over %(limit)s)",
                    days=late, limit=s["risk_c_days_late"])),
                ("B", avg_late > s["risk_b_days_late"], _(
                    "Pays %(days)s days late on average (over %(limit)s)",
                    days=late, limit=s["risk_b_days_late"])),
            ]  # fmt: skip
        if on_time is not None:
            rate = round(on_time)
            rules += [
                ("C", on_time < s["risk_c_on_time"], _(
                    "On time for %(rate)s%% of invoices (under %(limit)s%%)",
                    rate=rate, limit=s["risk_c_on_time"])),
                ("B", on_time < s["risk_b_on_time"], _(
                    "On time for %(rate)s%% of invoices (under %(limit)s%%)",
                    rate=rate, limit=s["risk_b_on_time"])),
            ]  # fmt: skip
        fired = [(grade, reason) for grade, hit, reason in rules if hit]
        if not fired:
            return "A", _("No late payments above the thresholds")
        worst = max(grade for grade, _reason in fired)
        # One reason per rule family: a D lateness also passes the C and B bars.
        reasons = list(dict.fromkeys(r for g, r in fired if g == worst))
        return worst, "; ".join(reasons)

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
