"""Customer payment profiles: what triggers a recompute and the figures.

Nothing is computed on read. Payments, credit notes, posting, reminder logs and
gateway events queue their customer; one recompute runs just before COMMIT,
and a nightly cron refreshes everyone (the 12-month and overdue windows move
with the calendar). Figures come from a few set-based SQL queries per batch of
customers; the rating is ``paycrm.profile.rating``.

Companies stay apart: every figure is computed per (customer, company) from
that company's invoices, payments, reminders and gateway events, in its
currency, and written to the partner's company-dependent profile fields.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import const

_logger = logging.getLogger(__name__)

PROFILE_BATCH = 1000
PRECOMMIT_KEY = "paycrm.profile_partner_ids"


class PaycrmProfile(models.AbstractModel):
    _name = "paycrm.profile"
    _description = "Customer Payment Profile Engine"

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
        partners = self.env["res.partner"].sudo().browse(ids).exists()
        try:
            with self.env.cr.savepoint():
                self._paycrm_recompute(partners)
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
            self._paycrm_recompute(
                self.env["res.partner"].browse(ids[start : start + PROFILE_BATCH])
            )
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

    @api.model
    def _paycrm_recompute(self, partners):
        """Recompute the payment profiles of these (commercial) partners, one per
        company they have history in (or had a profile in, to clear it).

        Four set-based queries per batch of partners (invoice, reminder and
        gateway figures, the stored profiles), then one write per partner and
        company."""
        partners = partners.commercial_partner_id
        if not partners:
            return
        today = fields.Date.context_today(self)
        settings = self._paycrm_profile_settings()
        company_delays = self._paycrm_company_delays(today)
        rating = self.env["paycrm.profile.rating"]
        companies = self.env["res.company"].sudo()
        for start in range(0, len(partners), PROFILE_BATCH):
            batch = partners[start : start + PROFILE_BATCH]
            figures = self._paycrm_profile_figures(batch.ids, today)
            reminders = self._paycrm_reminder_figures(batch.ids, today)
            gateways = self._paycrm_gateway_figures(batch.ids, today)
            keys = (
                figures.keys()
                | reminders.keys()
                | gateways.keys()
                | self._paycrm_stored_profiles(batch.ids)
            )
            for partner_id, company_id in sorted(keys):
                key = (partner_id, company_id)
                row = figures.get(key, {})
                sent, credited = reminders.get(key, (0, 0))
                failed, preferred, method = gateways.get(key, (0, False, False))
                vals = rating._paycrm_profile_values(
                    row, settings, company_delays.get(company_id, 0)
                )
                vals.update(
                    paycrm_reminder_count_12m=sent,
                    paycrm_reminder_response_rate=100.0 * credited / sent
                    if sent
                    else 0.0,
                    paycrm_failed_attempts_30d=failed,
                    paycrm_preferred_gateway_id=preferred,
                    paycrm_preferred_method=method,
                    paycrm_profile_date=today,
                )
                partner = batch.browse(partner_id).with_context(tracking_disable=True)
                partner.with_company(companies.browse(company_id)).write(vals)

    @api.model
    def _paycrm_stored_profiles(self, partner_ids):
        """{(partner, company)} of the profiles already stored: a company the
        customer no longer has history in gets its profile cleared."""
        self.env["res.partner"].flush_model(["paycrm_profile_date"])
        self.env.cr.execute(
            SQL(
                """SELECT p.id, c.key::int
                     FROM res_partner p,
                          jsonb_object_keys(p.paycrm_profile_date) c(key)
                    WHERE p.id = ANY(%s)
                      AND jsonb_typeof(p.paycrm_profile_date) = 'object'""",
                partner_ids,
            )
        )
        return set(self.env.cr.fetchall())

    @api.model
    def _paycrm_profile_settings(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        return {
            key: int(get(const.ICP_PREFIX + key, default))
            for key, default in const.PROFILE_DEFAULTS.items()
        }

    @api.model
    def _paycrm_company_delays(self, today):
        """{company: mean signed lateness of every invoice it was paid in the
        last 12 months}."""
        self.env.cr.execute(
            SQL(
                """%s SELECT company_id, AVG(paid_date - due_date)
                     FROM settled WHERE paid_date > %s GROUP BY company_id""",
                self._paycrm_settled_cte(None),
                today - timedelta(days=365),
            )
        )
        return {company: round(delay) for company, delay in self.env.cr.fetchall()}

    @api.model
    def _paycrm_settled_cte(self, partner_ids):
        """``settled``: one row per posted customer invoice with its company,
        its due date and, when paid, the date of the reconciliation that
        settled it. Amounts in company currency (``AMOUNT_RULE`` on
        res.partner): the invoice's signed amounts, and the partials' amount
        of the payments reconciled with it."""
        where = SQL("TRUE")
        if partner_ids is not None:
            where = SQL("m.commercial_partner_id = ANY(%s)", partner_ids)
        return SQL(
            """WITH settled AS (
                 SELECT m.id, m.commercial_partner_id AS partner_id,
                        m.company_id, m.invoice_date,
                        COALESCE(m.invoice_date_due, m.invoice_date) AS due_date,
                        m.amount_total_signed, m.amount_residual_signed,
                        m.payment_state,
                        CASE WHEN m.payment_state IN ('paid', 'in_payment')
                             THEN rec.paid_date END AS paid_date,
                        rec.received, rec.last_received
                   FROM account_move m
                   LEFT JOIN LATERAL (
                        SELECT MAX(apr.max_date) AS paid_date,
                               SUM(%s) FILTER (
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
            self._paycrm_received_sql(),
            where,
        )

    @api.model
    def _paycrm_received_sql(self):
        """A partial's amount at the payment's rate, in company currency.

        ``apr.amount`` is at the invoice's rate (the exchange difference is a
        separate entry): the payment line's share of its own balance is what
        the payment brought in on its date."""
        return SQL(
            """CASE WHEN cl.amount_currency != 0
                    THEN apr.credit_amount_currency / cl.amount_currency * cl.balance
                    ELSE apr.amount END"""
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
                SELECT partner_id, company_id,
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
                  FROM settled GROUP BY partner_id, company_id""",
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
            (row[0], row[1]): dict(zip(keys, row[2:], strict=True))
            for row in self.env.cr.fetchall()
        }

    @api.model
    def _paycrm_reminder_figures(self, partner_ids, today):
        self.env.cr.execute(
            SQL(
                """SELECT m.commercial_partner_id, m.company_id, COUNT(*),
                          COUNT(*) FILTER (WHERE log.paid_within_window)
                     FROM paycrm_reminder_log log
                     JOIN account_move m ON m.id = log.invoice_id
                    WHERE m.commercial_partner_id = ANY(%s)
                      AND log.result IN ('sent', 'fallback')
                      AND log.sent_at > %s
                    GROUP BY m.commercial_partner_id, m.company_id""",
                partner_ids,
                today - timedelta(days=365),
            )
        )
        return {
            (pid, company): (sent, credited)
            for pid, company, sent, credited in self.env.cr.fetchall()
        }

    @api.model
    def _paycrm_gateway_figures(self, partner_ids, today):
        """{(partner, company): (failed attempts in 30 days, most used gateway
        and most used payment method in 12 months)}."""
        self.env.cr.execute(
            SQL(
                """WITH ev AS (
                     SELECT m.commercial_partner_id AS partner, e.company_id,
                            e.gateway_id, e.kind, e.payment_method,
                            COALESCE(e.created, e.create_date)::date AS day
                       FROM paycrm_event e
                       JOIN account_move m ON m.id = e.invoice_id
                      WHERE m.commercial_partner_id = ANY(%(partners)s)
                        AND e.state = 'done'
                        AND e.kind IN ('payment_succeeded', 'payment_failed')
                   ), used AS (
                     SELECT DISTINCT ON (partner, company_id) partner, company_id,
                            gateway_id
                       FROM ev WHERE kind = 'payment_succeeded' AND day > %(year)s
                      GROUP BY partner, company_id, gateway_id
                      ORDER BY partner, company_id, COUNT(*) DESC, gateway_id
                   ), method AS (
                     SELECT DISTINCT ON (partner, company_id) partner, company_id,
                            payment_method
                       FROM ev WHERE kind = 'payment_succeeded' AND day > %(year)s
                        AND payment_method IS NOT NULL
                      GROUP BY partner, company_id, payment_method
                      ORDER BY partner, company_id, COUNT(*) DESC, payment_method
                   )
                   SELECT ev.partner, ev.company_id,
                          COUNT(*) FILTER (WHERE ev.kind = 'payment_failed'
                                             AND ev.day > %(month)s),
                          MAX(used.gateway_id), MAX(method.payment_method)
                     FROM ev
                     LEFT JOIN used ON used.partner = ev.partner
                      AND used.company_id = ev.company_id
                     LEFT JOIN method ON method.partner = ev.partner
                      AND method.company_id = ev.company_id
                    GROUP BY ev.partner, ev.company_id""",
                partners=partner_ids,
                year=today - timedelta(days=365),
                month=today - timedelta(days=30),
            )
        )
        return {
            (pid, company): (failed, gw or False, method or False)
            for pid, company, failed, gw, method in self.env.cr.fetchall()
        }
