import logging
import statistics
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.tools import SQL, format_amount

from .. import const

_logger = logging.getLogger(__name__)


class PaycrmAlert(models.Model):
    """Something unusual in a customer's payments, raised once per window.

    Automation Rules can react to a new alert (trigger "On creation" on model
    "Payment Alert"): the model is a mail.thread, so it is offered there.
    """

    _name = "paycrm.alert"
    _description = "Payment Alert"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    kind = fields.Selection(const.ALERT_KINDS, required=True, readonly=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True
    )
    invoice_id = fields.Many2one(
        "account.move", readonly=True, index="btree_not_null", check_company=True
    )
    event_id = fields.Many2one("paycrm.event", string="Gateway Event", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True)
    message = fields.Text(required=True, readonly=True)
    state = fields.Selection(
        const.ALERT_STATES, default="new", required=True, tracking=True, index=True
    )
    window_key = fields.Char(
        required=True,
        readonly=True,
        help="Identifies what the alert is about and for which window: a second "
        "alert with the same key is never raised.",
    )

    _sql_constraints = [
        (
            "window_key_uniq",
            "UNIQUE(company_id, window_key)",
            "This alert was already raised for this window.",
        ),
    ]

    @api.depends("kind", "partner_id")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for alert in self:
            alert.display_name = " - ".join(
                filter(None, [labels.get(alert.kind), alert.partner_id.display_name])
            )

    def action_paycrm_acknowledge(self):
        self.write({"state": "acknowledged"})
        self.activity_ids.action_feedback(feedback=_("Alert acknowledged."))
        return True

    @api.model
    def _paycrm_raise(self, vals):
        """Create the alert unless its window key exists; return it or False.

        The UNIQUE key settles races between two workers: the loser's insert
        fails inside its savepoint and it simply does not alert."""
        existing = self.search_count(
            [
                ("company_id", "=", vals["company_id"]),
                ("window_key", "=", vals["window_key"]),
            ]
        )
        if existing:
            return False
        try:
            with self.env.cr.savepoint():
                alert = self.create(vals)
        except psycopg2.IntegrityError:
            return False
        alert._paycrm_notify()
        return alert

    def _paycrm_notify(self):
        self.ensure_one()
        company = self.company_id
        user = self.partner_id.user_id or company.paycrm_alert_user_id
        if user:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.display_name,
                note=self.message,
                user_id=user.id,
            )
        if company.paycrm_alert_email_admins:
            admins = self.env.ref("paycrm_connector.group_paycrm_manager").users
            admins = admins.filtered(lambda u: company in u.company_ids and u.email)
            self.message_post(
                body=self.message,
                subject=_("Payment alert: %(alert)s", alert=self.display_name),
                partner_ids=admins.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
        else:
            self.message_post(body=self.message, subtype_xmlid="mail.mt_note")

    # Queue: checks run once per transaction, just before COMMIT ----------------

    @api.model
    def _paycrm_alert_touch(self, key, ids):
        ids = {i for i in ids if i}
        if not ids:
            return
        data = self.env.cr.precommit.data
        queue = data.get("paycrm.alert_queue")
        if queue is None:
            queue = data["paycrm.alert_queue"] = {"pay_moves": set(), "events": set()}
            self.env.cr.precommit.add(self._paycrm_alert_flush_queue)
        queue[key].update(ids)

    @api.model
    def _paycrm_alert_flush_queue(self):
        queue = self.env.cr.precommit.data.pop("paycrm.alert_queue", None)
        if not queue:
            return
        # sudo: alerts are raised for whoever booked the payment; they are
        # company records the booking user may not be allowed to create.
        alerts = self.sudo()
        try:
            with self.env.cr.savepoint():
                alerts._paycrm_check_large_payments(sorted(queue["pay_moves"]))
                alerts._paycrm_check_events(sorted(queue["events"]))
                self.env.flush_all()
        except Exception:  # noqa: BLE001 - an alert must never undo a booking
            _logger.exception("paycrm alerts: checks failed, bookings kept")

    # Rules ---------------------------------------------------------------------

    @api.model
    def _paycrm_check_large_payments(self, pay_move_ids):
        """A payment above factor x the customer's median payment (last 12
        months, at least the minimum history) and above the company floor."""
        if not pay_move_ids:
            return
        # The customers first, so the payment history below reads only theirs.
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT m.commercial_partner_id
                     FROM account_move_line cl
                     JOIN account_partial_reconcile apr ON apr.credit_move_id = cl.id
                     JOIN account_move_line dl ON dl.id = apr.debit_move_id
                     JOIN account_move m ON m.id = dl.move_id
                    WHERE cl.move_id = ANY(%s) AND m.move_type = 'out_invoice'""",
                pay_move_ids,
            )
        )
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        self.env.cr.execute(
            SQL(
                """SELECT cl.move_id, m.commercial_partner_id, m.company_id,
                          MAX(apr.max_date), SUM(apr.amount)
                     FROM account_move m
                     JOIN account_move_line dl ON dl.move_id = m.id
                      AND dl.display_type = 'payment_term'
                     JOIN account_partial_reconcile apr ON apr.debit_move_id = dl.id
                     JOIN account_move_line cl ON cl.id = apr.credit_move_id
                     JOIN account_move cm ON cm.id = cl.move_id
                      AND cm.move_type != 'out_refund'
                    WHERE m.commercial_partner_id = ANY(%s)
                      AND m.move_type = 'out_invoice'
                    GROUP BY cl.move_id, m.commercial_partner_id, m.company_id""",
                partner_ids,
            )
        )
        rows = self.env.cr.fetchall()
        min_history = self.env["paycrm.profile"]._paycrm_profile_settings()[
            "profile_min_history"
        ]
        wanted = set(pay_move_ids)
        for pay_move, partner_id, company_id, day, amount in rows:
            if pay_move not in wanted:
                continue
            history = [
                r[4]
                for r in rows
                if r[1] == partner_id
                and r[2] == company_id
                and r[0] != pay_move
                and day - timedelta(days=365) < r[3] <= day
            ]
            company = self.env["res.company"].browse(company_id)
            if len(history) < min_history:
                continue
            median = statistics.median(history)
            currency = company.currency_id
            limit = max(median * company.paycrm_alert_large_factor, 0.0)
            if (
                currency.compare_amounts(amount, limit) <= 0
                or currency.compare_amounts(amount, company.paycrm_alert_large_floor)
                <= 0
            ):
                continue
            partner = self.env["res.partner"].browse(partner_id)
            self._paycrm_raise(
                {
                    "company_id": company_id,
                    "kind": "large_payment",
                    "partner_id": partner_id,
                    "currency_id": currency.id,
                    "amount": amount,
                    "window_key": f"large_payment:{pay_move}",
                    "message": _(
                        "%(partner)s paid %(amount)s, %(ratio)s times its median "
                        "payment of %(median)s over the last 12 months.",
                        partner=partner.display_name,
                        amount=format_amount(self.env, amount, currency),
                        ratio=round(amount / median, 1) if median else "-",
                        median=format_amount(self.env, median, currency),
                    ),
                }
            )

    @api.model
    def _paycrm_check_events(self, event_ids):
        events = self.env["paycrm.event"].browse(event_ids).exists()
        for event in events.filtered(lambda e: e.state == "done"):
            if event.card_country_id and event.invoice_id:
                self._paycrm_check_card_country(event)
            if event.kind == "payment_failed" and event.invoice_id:
                self._paycrm_check_failed(event)
            elif event.kind == "dispute_opened":
                self._paycrm_alert_dispute(event)
            elif event.kind == "refund_succeeded":
                self._paycrm_check_refund_share(event)

    def _paycrm_event_time(self, event):
        return event.created or event.create_date

    def _paycrm_check_failed(self, event):
        company = event.company_id
        hours = max(company.paycrm_alert_failed_hours, 1)
        at = self._paycrm_event_time(event)
        bucket = int(at.timestamp() // (hours * 3600))
        invoice = event.invoice_id
        partner = invoice.commercial_partner_id
        scopes = [
            ("invoice", [("invoice_id", "=", invoice.id)], invoice.id),
            (
                "customer",
                [("invoice_id.commercial_partner_id", "=", partner.id)],
                partner.id,
            ),
        ]
        for scope, domain, res_id in scopes:
            failed = self.env["paycrm.event"].search_count(
                [
                    ("company_id", "=", company.id),
                    ("kind", "=", "payment_failed"),
                    ("state", "=", "done"),
                    ("created", ">", at - timedelta(hours=hours)),
                    ("created", "<=", at),
                    *domain,
                ]
            )
            if failed < company.paycrm_alert_failed_count:
                continue
            self._paycrm_raise(
                {
                    "company_id": company.id,
                    "kind": "failed_attempts",
                    "partner_id": partner.id,
                    "invoice_id": invoice.id if scope == "invoice" else False,
                    "event_id": event.id,
                    "window_key": f"failed_attempts:{scope}:{res_id}:{hours}h:{bucket}",
                    "message": _(
                        "%(count)s failed payment attempts on %(what)s within "
                        "%(hours)s hours.",
                        count=failed,
                        what=invoice.name if scope == "invoice" else partner.name,
                        hours=hours,
                    ),
                }
            )

    def _paycrm_check_card_country(self, event):
        """A card from another country than the customer's (either unknown:
        nothing to compare), once per customer, card country and window."""
        company = event.company_id
        invoice = event.invoice_id
        partner = invoice.commercial_partner_id
        home = partner.country_id or invoice.partner_id.country_id
        card = event.card_country_id
        if not company.paycrm_alert_card_country or not home or card == home:
            return
        days = max(company.paycrm_alert_card_country_days, 1)
        bucket = int(self._paycrm_event_time(event).timestamp() // (days * 86400))
        self._paycrm_raise(
            {
                "company_id": company.id,
                "kind": "card_country",
                "partner_id": partner.id,
                "invoice_id": invoice.id,
                "event_id": event.id,
                "currency_id": event.currency_id.id,
                "amount": event.amount,
                "window_key": f"card_country:{partner.id}:{card.code}:{days}d:{bucket}",
                "message": _(
                    "%(partner)s (%(home)s) used a card issued in %(card)s to pay "
                    "%(invoice)s.",
                    partner=partner.display_name,
                    home=home.name,
                    invoice=invoice.name,
                    card=card.name,
                ),
            }
        )

    def _paycrm_alert_dispute(self, event):
        self._paycrm_raise(
            {
                "company_id": event.company_id.id,
                "kind": "dispute_opened",
                "partner_id": event.invoice_id.commercial_partner_id.id,
                "invoice_id": event.invoice_id.id,
                "event_id": event.id,
                "currency_id": event.currency_id.id,
                "amount": event.amount,
                "window_key": "dispute_opened:%s:%s"
                % (event.gateway_id.id, event.object_ref or event.external_id),
                "message": _(
                    "A dispute of %(amount)s was opened at %(gateway)s for "
                    "%(invoice)s.",
                    amount=format_amount(self.env, event.amount, event.currency_id),
                    gateway=event.gateway_id.name,
                    invoice=event.invoice_id.name or _("an unknown invoice"),
                ),
            }
        )

    def _paycrm_check_refund_share(self, event):
        company = event.company_id
        at = self._paycrm_event_time(event)
        start = fields.Datetime.to_datetime(at.date().replace(day=1))
        domain = [
            ("company_id", "=", company.id),
            ("state", "=", "done"),
            ("currency_id", "=", event.currency_id.id),
            ("created", ">=", start),
            ("created", "<=", at),
        ]
        totals = dict(
            self.env["paycrm.event"]._read_group(
                [*domain, ("kind", "in", ("payment_succeeded", "refund_succeeded"))],
                groupby=["kind"],
                aggregates=["amount:sum"],
            )
        )
        paid = totals.get("payment_succeeded", 0.0)
        refunded = totals.get("refund_succeeded", 0.0)
        share = 100.0 * refunded / paid if paid else 100.0
        if share <= company.paycrm_alert_refund_share:
            return
        self._paycrm_raise(
            {
                "company_id": company.id,
                "kind": "refund_share",
                "event_id": event.id,
                "currency_id": event.currency_id.id,
                "amount": refunded,
                "window_key": f"refund_share:{at:%Y-%m}:{event.currency_id.name}",
                "message": _(
                    "Refunds reached %(share)s%% of this month's payments in "
                    "%(currency)s (%(refunded)s of %(paid)s; alert above %(limit)s%%).",
                    share=round(share),
                    currency=event.currency_id.name,
                    refunded=format_amount(self.env, refunded, event.currency_id),
                    paid=format_amount(self.env, paid, event.currency_id),
                    limit=company.paycrm_alert_refund_share,
                ),
            }
        )
