"""Alerts about a gateway's webhook endpoint: events only the catch-up sync
found, a gateway gone silent, bursts of rejected signatures."""

import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.tools.misc import format_datetime

_logger = logging.getLogger(__name__)


class PaycrmAlert(models.Model):
    _inherit = "paycrm.alert"

    gateway_id = fields.Many2one(
        "paycrm.gateway",
        readonly=True,
        index="btree_not_null",
        check_company=True,
        help="The gateway whose webhook endpoint the alert is about.",
    )

    @api.depends("gateway_id")
    def _compute_display_name(self):
        res = super()._compute_display_name()
        for alert in self.filtered(lambda a: a.gateway_id and not a.partner_id):
            alert.display_name = f"{alert.display_name} - {alert.gateway_id.name}"
        return res

    # ------------------------------------------------------------ public API

    def _paycrm_gateway_checks(self, gateway):
        """What to check when webhooks do not arrive, in words."""
        return _(
            "Check that the webhook URL %(url)s is registered in the gateway's "
            "dashboard, that it answers over HTTPS with a valid TLS certificate "
            "(no proxy or firewall in between refusing it), and what the "
            "gateway's webhook delivery log says.",
            url=gateway.webhook_url,
        )

    @api.model
    def _paycrm_alert_webhook_missed(self, gateway, events):
        """The catch-up sync just stored ``events`` (paycrm.event) that no
        webhook had delivered: one alert per gateway and day (UTC). Returns
        the alert, or False (nothing to say, or already said today)."""
        if not events:
            return False
        gateway.ensure_one()
        # sudo: called by the sync (a cron or a button of a connector
        # administrator); alerts are company records whoever runs it.
        alerts = self.sudo()
        oldest = min(events.mapped(lambda e: e.created or e.create_date))
        day = fields.Datetime.now().date()
        return alerts._paycrm_raise(
            {
                "company_id": gateway.company_id.id,
                "kind": "webhook_missed",
                "gateway_id": gateway.id,
                "event_id": events.sorted(lambda e: e.created or e.create_date)[:1].id,
                "window_key": f"webhook_missed:{gateway.id}:{day.isoformat()}",
                "message": _(
                    "The catch-up sync found %(count)s event(s) of %(gateway)s "
                    "that no webhook delivered, the oldest sent at %(oldest)s: "
                    "webhooks are being lost. %(checks)s",
                    count=len(events),
                    gateway=gateway.name,
                    oldest=format_datetime(self.env, oldest),
                    checks=self._paycrm_gateway_checks(gateway),
                ),
            }
        )

    @api.model
    def _paycrm_alert_webhook_silent(self, gateway, active_since):
        """After a sync: ``active_since`` is when the newest event the sync saw
        was created (or False). If it falls within the company's silence
        window while no webhook-delivered event arrived in that window, raise
        one alert per gateway and window. Returns the alert or False."""
        gateway.ensure_one()
        if not active_since:
            return False
        company = gateway.company_id
        hours = max(company.paycrm_alert_webhook_silent_hours, 1)
        now = fields.Datetime.now()
        since = now - timedelta(hours=hours)
        if fields.Datetime.to_datetime(active_since) < since:
            return False
        # sudo: the sync may run as any connector user; events and alerts
        # of the gateway's company are read and raised whoever runs it.
        events = self.env["paycrm.event"].sudo()
        [last] = events._read_group(
            [("gateway_id", "=", gateway.id), ("from_sync", "=", False)],
            aggregates=["create_date:max"],
        )[0]
        if last and last >= since:
            return False
        if not last and gateway.create_date > since:
            # A gateway added within the window has not been silent for it
            # yet (events the sync finds meanwhile raise "Webhooks missed").
            return False
        bucket = int(now.timestamp() // (hours * 3600))
        return self.sudo()._paycrm_raise(
            {
                "company_id": company.id,
                "kind": "webhook_silent",
                "gateway_id": gateway.id,
                "window_key": f"webhook_silent:{gateway.id}:{hours}h:{bucket}",
                "message": _(
                    "No webhook from %(gateway)s for %(hours)s hours (last one: "
                    "%(last)s), although the gateway created events since, the "
                    "newest at %(active)s. %(checks)s",
                    gateway=gateway.name,
                    hours=hours,
                    last=format_datetime(self.env, last),
                    active=format_datetime(self.env, active_since),
                    checks=self._paycrm_gateway_checks(gateway),
                )
                if last
                else _(
                    "No webhook received from %(gateway)s yet, %(hours)s hours "
                    "or more after it was added, although the gateway created "
                    "events, the newest at %(active)s. %(checks)s",
                    gateway=gateway.name,
                    hours=hours,
                    active=format_datetime(self.env, active_since),
                    checks=self._paycrm_gateway_checks(gateway),
                ),
            }
        )

    @api.model
    def _paycrm_alert_signature_failures(self, gateway, count, window_start, window):
        """``count`` webhook posts to ``gateway`` were rejected for a bad
        signature since ``window_start``: one alert per gateway and window
        (``window`` names it: the failures counted before it began). Called
        from the webhook route (anonymous): never raises."""
        try:
            with self.env.cr.savepoint():
                # The anonymous webhook request raises a system alert: as
                # superuser (OdooBot), so its chatter line is not signed by
                # the public user.
                alerts = self.with_user(SUPERUSER_ID)
                gateway = gateway.with_user(SUPERUSER_ID)
                return alerts._paycrm_raise(
                    {
                        "company_id": gateway.company_id.id,
                        "kind": "signature_failures",
                        "gateway_id": gateway.id,
                        "window_key": f"signature_failures:{gateway.id}:{window}",
                        "message": _(
                            "%(count)s webhook posts to %(gateway)s were rejected "
                            "for a bad signature within an hour (since %(since)s): "
                            "was the webhook signing secret rotated? Paste the "
                            "gateway's current signing secret in the gateway's "
                            "Webhook Secret (PayPal: its Webhook ID).",
                            count=count,
                            gateway=gateway.name,
                            since=format_datetime(alerts.env, window_start),
                        ),
                    }
                )
        except Exception:  # noqa: BLE001 - the route must still answer 400
            _logger.exception(
                "paycrm gateway %s: signature failure alert not raised", gateway.id
            )
            return False
