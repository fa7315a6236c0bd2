"""How long a gateway's unverified events are asked about, and how many wait."""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_datetime

from .. import const

# Events the gateway's verification API has not vouched for yet.
WAITING_DOMAIN = [("state", "=", "received"), ("verified", "=", False)]

HEALTH_STATES = [
    ("ok", "Healthy"),
    ("warning", "Needs a look"),
    ("danger", "Failing"),
]
# The health figures, computed together by _compute_health.
HEALTH_FIELDS = (
    "health_last_webhook_at",
    "health_last_sync_at",
    "health_event_count_24h",
    "health_lag_p95",
    "health_lag_p95_display",
    "health_failed_count",
    "health_unmatched_count",
    "health_sync_only_count",
    "health_sync_only_24h",
    "health_bad_signature_hour",
    "health_state",
    "health_summary",
)


class PaycrmGateway(models.Model):
    # Split from paycrm_gateway.py only to keep each file under ~400 lines; the
    # verification window and the gateway-health line live here.
    _inherit = "paycrm.gateway"  # pylint: disable=consider-merging-classes-inherited

    verify_window_hours = fields.Integer(
        string="Verification Window (h)",
        default=const.VERIFY_WINDOW_HOURS,
        help="Events the gateway's verification API could not vouch for when "
        "they arrived (API down or failing) are asked about again, with "
        "back-off, for this long after they arrived, and booked as soon as it "
        "answers; only then, or when the gateway says it did not send them, "
        "do they end failed. Match how long the gateway keeps retrying a "
        "webhook: PayPal retries for 3 days (72 h).",
    )
    unverified_count = fields.Integer(
        string="Awaiting Verification",
        compute="_compute_unverified",
        help="Events stored while the gateway's verification API did not answer, "
        "still waiting for it.",
    )
    unverified_since = fields.Datetime(
        string="Awaiting Verification Since",
        compute="_compute_unverified",
        help="When the oldest event still waiting for verification arrived.",
    )
    verify_health = fields.Char(string="Verification", compute="_compute_unverified")

    # Signature failures, counted by _paycrm_count_bad_signature in one UPDATE.
    bad_signature_last_at = fields.Datetime(
        string="Last Signature Failure", readonly=True, copy=False
    )
    bad_signature_window_start = fields.Datetime(
        readonly=True,
        copy=False,
        help="First rejected signature of the current hour-long window.",
    )
    bad_signature_window_count = fields.Integer(
        readonly=True,
        copy=False,
        help="Rejected signatures since the window started.",
    )

    # Endpoint health: computed for all gateways at once (_compute_health).
    health_last_webhook_at = fields.Datetime(
        string="Last Webhook",
        compute="_compute_health",
        help="When the last event delivered by a webhook arrived.",
    )
    health_last_sync_at = fields.Datetime(
        string="Last Found by Sync",
        compute="_compute_health",
        help="When the catch-up sync last stored an event no webhook had delivered.",
    )
    health_event_count_24h = fields.Integer(
        string="Events (24 h)", compute="_compute_health"
    )
    health_lag_p95 = fields.Float(
        string="Processing Lag p95 (s)",
        compute="_compute_health",
        help="95% of the events booked in the last 24 hours were booked within "
        "this many seconds of their arrival.",
    )
    health_lag_p95_display = fields.Char(
        string="Processing Lag (p95)", compute="_compute_health"
    )
    health_failed_count = fields.Integer(
        string="Failed Events", compute="_compute_health"
    )
    health_unmatched_count = fields.Integer(
        string="Unmatched Events", compute="_compute_health"
    )
    health_sync_only_count = fields.Integer(
        string="Found Only by Sync (30 days)",
        compute="_compute_health",
        help="Events of the last 30 days that reached Odoo only through the "
        "catch-up sync: their webhook was lost or late.",
    )
    health_sync_only_24h = fields.Integer(
        string="Found Only by Sync (24 h)", compute="_compute_health"
    )
    health_bad_signature_hour = fields.Integer(
        string="Signature Failures (last hour)", compute="_compute_health"
    )
    health_state = fields.Selection(
        HEALTH_STATES, string="Health", compute="_compute_health"
    )
    health_summary = fields.Char(
        compute="_compute_health",
        help="What is wrong with the webhook endpoint, most urgent first.",
    )

    @api.depends("verify_window_hours")
    def _compute_unverified(self):
        groups = self.env["paycrm.event"]._read_group(
            [("gateway_id", "in", self.ids), *WAITING_DOMAIN],
            ["gateway_id"],
            ["__count", "create_date:min"],
        )
        waiting = {gateway: (count, since) for gateway, count, since in groups}
        for gateway in self:
            count, since = waiting.get(gateway, (0, False))
            gateway.unverified_count = count
            gateway.unverified_since = since
            if not count:
                gateway.verify_health = False
                continue
            gateway.verify_health = _(
                "%(count)s event(s) wait for the gateway to verify them, the oldest "
                "since %(since)s. They are asked again with back-off and booked "
                "as soon as it answers; those still unverified after %(until)s "
                "end failed.",
                count=count,
                since=format_datetime(self.env, since),
                until=format_datetime(
                    self.env, since + timedelta(hours=gateway.verify_window_hours)
                ),
            )

    def _paycrm_health_rows(self, now):
        """``{gateway id: figures}`` of these gateways' events, in one grouped
        query (conditional aggregates over each gateway's events)."""
        ids = [gid for gid in self.ids if gid]
        if not ids:
            return {}
        day_ago = now - timedelta(hours=24)
        month_ago = now - timedelta(days=30)
        self.env.cr.execute(
            SQL(
                """
                SELECT gateway_id,
                       MAX(create_date) FILTER (WHERE from_sync IS NOT TRUE),
                       MAX(create_date) FILTER (WHERE from_sync),
                       COUNT(*) FILTER (WHERE create_date >= %(day)s),
                       COUNT(*) FILTER (WHERE state = 'failed'),
                       COUNT(*) FILTER (WHERE state = 'unmatched'),
                       COUNT(*) FILTER (WHERE from_sync AND create_date >= %(month)s),
                       COUNT(*) FILTER (WHERE from_sync AND create_date >= %(day)s),
                       percentile_cont(0.95) WITHIN GROUP (
                           ORDER BY EXTRACT(EPOCH FROM done_at - create_date)
                       ) FILTER (WHERE done_at IS NOT NULL AND done_at >= %(day)s)
                  FROM paycrm_event
                 WHERE gateway_id = ANY(%(ids)s)
              GROUP BY gateway_id
                """,
                day=day_ago,
                month=month_ago,
                ids=ids,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _compute_health(self):
        now = fields.Datetime.now()
        rows = self._paycrm_health_rows(now)
        for gateway in self:
            (
                last_webhook,
                last_sync,
                count_24h,
                failed,
                unmatched,
                sync_30d,
                sync_24h,
                lag,
            ) = rows.get(gateway.id, (False, False, 0, 0, 0, 0, 0, None))
            window_start = gateway.bad_signature_window_start
            bad_hour = (
                gateway.bad_signature_window_count
                if window_start and window_start > now - timedelta(hours=1)
                else 0
            )
            gateway.update(
                {
                    "health_last_webhook_at": last_webhook,
                    "health_last_sync_at": last_sync,
                    "health_event_count_24h": count_24h,
                    "health_lag_p95": lag or 0.0,
                    "health_lag_p95_display": (
                        self._paycrm_duration_words(lag) if lag is not None else False
                    ),
                    "health_failed_count": failed,
                    "health_unmatched_count": unmatched,
                    "health_sync_only_count": sync_30d,
                    "health_sync_only_24h": sync_24h,
                    "health_bad_signature_hour": bad_hour,
                }
            )
            problems = gateway._paycrm_health_problems(now)
            if problems:
                gateway.health_state = (
                    "danger"
                    if any(level == "danger" for level, _text in problems)
                    else "warning"
                )
                gateway.health_summary = "; ".join(text for _level, text in problems)
            else:
                gateway.health_state = "ok"
                gateway.health_summary = _("Healthy")

    def _paycrm_health_problems(self, now):
        """``[(level, words)]`` of what is wrong, most urgent first (levels
        ``danger`` then ``warning``), from the health figures."""
        self.ensure_one()
        company = self.company_id
        problems = []
        bad = self.health_bad_signature_hour
        if bad:
            limit = company.paycrm_alert_signature_failures
            problems.append(
                (
                    "danger" if limit and bad >= limit else "warning",
                    _(
                        "%(count)s signature failure(s) in the last hour: was the "
                        "signing secret rotated?",
                        count=bad,
                    ),
                )
            )
        if self.health_sync_only_24h:
            problems.append(
                (
                    "danger",
                    _(
                        "%(count)s event(s) reached Odoo only through the sync in "
                        "the last 24 hours: webhooks are being lost",
                        count=self.health_sync_only_24h,
                    ),
                )
            )
        last_webhook, last_sync = self.health_last_webhook_at, self.health_last_sync_at
        if last_sync and (not last_webhook or last_sync > last_webhook):
            hours = max(company.paycrm_alert_webhook_silent_hours, 1)
            if not last_webhook:
                problems.append(
                    (
                        "danger",
                        _("No webhook received yet, though the sync found events"),
                    )
                )
            else:
                silent = int((now - last_webhook).total_seconds() // 3600)
                if silent >= 1:
                    problems.append(
                        (
                            "danger" if silent >= hours else "warning",
                            _(
                                "No webhook for %(hours)s h, though the sync "
                                "found newer events",
                                hours=silent,
                            ),
                        )
                    )
        if self.health_failed_count:
            problems.append(
                (
                    "warning",
                    _("%(count)s event(s) failed", count=self.health_failed_count),
                )
            )
        if self.health_unmatched_count:
            problems.append(
                (
                    "warning",
                    _(
                        "%(count)s event(s) wait to be matched to an invoice",
                        count=self.health_unmatched_count,
                    ),
                )
            )
        older = self.health_sync_only_count - self.health_sync_only_24h
        if older > 0:
            problems.append(
                (
                    "warning",
                    _(
                        "%(count)s event(s) of the last 30 days reached Odoo only "
                        "through the sync",
                        count=older,
                    ),
                )
            )
        problems.sort(key=lambda problem: problem[0] != "danger")
        return problems

    def _paycrm_duration_words(self, seconds):
        """``0.4 s``, ``1.2 s``, ``3.5 min``, ``2.0 h``."""
        if seconds < 60:
            return _("%(value)s s", value=round(seconds, 1))
        if seconds < 3600:
            return _("%(value)s min", value=round(seconds / 60, 1))
        return _("%(value)s h", value=round(seconds / 3600, 1))

    @api.constrains("verify_window_hours")
    def _check_verify_window_hours(self):
        if any(gateway.verify_window_hours < 1 for gateway in self):
            raise ValidationError(
                _("The verification window must be at least one hour.")
            )

    def action_paycrm_view_unverified(self):
        action = self.action_paycrm_view_events()
        action["domain"] = [("gateway_id", "=", self.id), *WAITING_DOMAIN]
        return action

    def _paycrm_events_action(self, name, domain):
        action = self.action_paycrm_view_events()
        # The web client titles the list with display_name first.
        action["name"] = action["display_name"] = name
        action["domain"] = [("gateway_id", "=", self.id), *domain]
        return action

    def action_paycrm_view_failed_events(self):
        self.ensure_one()
        return self._paycrm_events_action(
            _("Failed Events: %(gateway)s", gateway=self.name),
            [("state", "=", "failed")],
        )

    def action_paycrm_view_unmatched_events(self):
        self.ensure_one()
        return self._paycrm_events_action(
            _("Unmatched Events: %(gateway)s", gateway=self.name),
            [("state", "=", "unmatched")],
        )

    def action_paycrm_view_sync_events(self):
        self.ensure_one()
        return self._paycrm_events_action(
            _("Found Only by Sync: %(gateway)s", gateway=self.name),
            [("from_sync", "=", True)],
        )
