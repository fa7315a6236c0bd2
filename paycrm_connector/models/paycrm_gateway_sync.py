"""Catch-up sync: list the gateway's events over its API and store the ones
no webhook delivered, so a payment is never lost to an endpoint that was down.

A run covers a fixed window ``[since, until)``, page by page, newest first;
the page cursor is saved after each page, so a run cut short (an error, a
timeout, a restart) resumes where it stopped. Only a finished run moves the
watermark: the next run starts there, minus an overlap. Every event goes
through the intake's store (``paycrm.event._paycrm_store_many``): one per
gateway and event id, whoever brings it first, webhook or sync.
"""

import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_datetime

from .. import const
from ..gateways import GatewayError, GatewayUnreachable, PayloadError, get_adapter_class

_logger = logging.getLogger(__name__)
MANAGER = "paycrm_connector.group_paycrm_manager"
SYNC_CRON = "paycrm_connector.ir_cron_paycrm_sync_events"
# First key of the session advisory lock a sync run holds (second: gateway id).
SYNC_LOCK_KEY = 0x5C3E


def _epoch(value):
    return int(value.timestamp()) if value else 0


def _from_epoch(seconds):
    return fields.Datetime.to_datetime("1970-01-01") + timedelta(seconds=seconds)


class PaycrmGateway(models.Model):
    _inherit = "paycrm.gateway"  # pylint: disable=consider-merging-classes-inherited

    sync_capable = fields.Boolean(compute="_compute_sync_capable")
    sync_enabled = fields.Boolean(
        string="Catch-up Sync",
        default=True,
        help="List the gateway's events over its API every sync interval (see "
        "Settings) and store the ones no webhook delivered.",
    )
    sync_overlap_minutes = fields.Integer(
        string="Sync Overlap (min)",
        default=const.SYNC_OVERLAP_MINUTES,
        help="Each sync starts this long before where the last one ended, for "
        "events the gateway listed late. Events seen twice are stored once.",
    )
    sync_watermark = fields.Datetime(
        string="Synced Up To",
        readonly=True,
        copy=False,
        help="Every event the gateway created before this moment has been "
        "listed by a finished sync.",
    )
    sync_start = fields.Datetime(
        string="Synced From",
        readonly=True,
        copy=False,
        help="Where the first sync started: later syncs never reach back before "
        "it, their overlap included.",
    )
    sync_last_at = fields.Datetime(string="Last Sync", readonly=True, copy=False)
    sync_state = fields.Selection(
        [
            ("never", "Never run"),
            ("ok", "Up to date"),
            ("partial", "Stopped part-way"),
            ("error", "Failed"),
        ],
        default="never",
        readonly=True,
        copy=False,
    )
    sync_message = fields.Char(readonly=True, copy=False)
    sync_last_found = fields.Integer(
        string="Found by Last Sync",
        readonly=True,
        copy=False,
        help="Events the last finished sync stored because no webhook had "
        "delivered them.",
    )
    # The run in progress: its window, the next page and what it found so far.
    sync_run_since = fields.Datetime(readonly=True, copy=False)
    sync_run_until = fields.Datetime(readonly=True, copy=False)
    sync_run_cursor = fields.Char(readonly=True, copy=False)
    sync_run_found = fields.Integer(readonly=True, copy=False)
    sync_run_seen = fields.Integer(readonly=True, copy=False)
    sync_attempts = fields.Integer(readonly=True, copy=False)

    @api.depends("provider")
    def _compute_sync_capable(self):
        for gateway in self:
            gateway.sync_capable = bool(gateway.provider) and gateway._paycrm_can(
                "lists_events"
            )

    @api.constrains("sync_overlap_minutes")
    def _check_sync_overlap_minutes(self):
        if any(gateway.sync_overlap_minutes < 1 for gateway in self):
            raise ValidationError(_("The sync overlap must be at least one minute."))

    # ------------------------------------------------------------- actions

    def _paycrm_check_manager(self):
        if not self.env.user.has_group(MANAGER):
            raise UserError(
                _("Only connector administrators can sync a gateway's events.")
            )
        self.check_access("write")

    def action_paycrm_sync_now(self):
        """Sync now; the first sync of a gateway asks from when."""
        self.ensure_one()
        self._paycrm_check_manager()
        if not self.sync_capable:
            raise UserError(
                _("%(gateway)s cannot list its events.", gateway=self.display_name)
            )
        if self.state == "disabled":
            raise UserError(_("Enable the gateway before syncing its events."))
        if not self.sync_watermark and not self.sync_run_cursor:
            return self._paycrm_sync_start_wizard()
        return self._paycrm_sync_notify(
            self._paycrm_sync_run(max_pages=const.SYNC_PAGES_PER_REQUEST)
        )

    def _paycrm_sync_start_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("First Sync"),
            "res_model": "paycrm.event.replay",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_gateway_id": self.id,
                "default_first_sync": True,
                "default_date_from": fields.Datetime.to_string(
                    self._paycrm_sync_default_start()
                ),
            },
        }

    def _paycrm_sync_default_start(self):
        """Where a first sync starts unless told: when the gateway was added
        (Odoo expected nothing of it before), within what it still lists."""
        return max(self.create_date or fields.Datetime.now(), self._paycrm_sync_floor())

    def _paycrm_sync_set_start(self, start):
        """Start the first sync at ``start``: nothing before it is listed."""
        self.sudo().write({"sync_run_since": start, "sync_start": start})

    def _paycrm_sync_floor(self):
        """The oldest moment the gateway still lists events for."""
        days = self._paycrm_can("event_history_days") or const.SYNC_HISTORY_DAYS
        # A minute inside it: the gateway measures from its own clock.
        return fields.Datetime.now() - timedelta(days=days) + timedelta(minutes=1)

    def _paycrm_sync_notify(self, outcome, title=None):
        kind = {"ok": "success", "partial": "warning"}.get(outcome["state"], "danger")
        return self._paycrm_notification(
            title or _("Sync of %(gateway)s", gateway=self.display_name),
            outcome["message"],
            kind,
        )

    # ---------------------------------------------------------------- cron

    @api.model
    def _cron_paycrm_sync_events(self):
        """Sync every enabled gateway that lists its events and is due."""
        now = fields.Datetime.now()
        # sudo: a system job; it commits page by page (never in tests).
        gateways = (
            self.with_context(paycrm_commit=True)
            .sudo()
            .search([("state", "!=", "disabled"), ("sync_enabled", "=", True)])
        )
        for gateway in gateways.filtered("sync_capable"):
            if gateway.sync_state == "never" and not gateway.sync_run_cursor:
                gateway._paycrm_sync_set_start(gateway._paycrm_sync_default_start())
            retry_at = gateway._paycrm_sync_retry_at()
            if retry_at and retry_at > now:
                continue
            try:
                gateway._paycrm_sync_run(commit=gateway._paycrm_sync_commits())
            except Exception:  # noqa: BLE001 - one gateway must not stop the others
                self.env.cr.rollback()
                _logger.exception("paycrm sync of gateway %s crashed", gateway.id)

    def _paycrm_sync_commits(self):
        """Commit page by page in a cron worker; never inside tests."""
        return self.env["paycrm.event"]._paycrm_queue_commits()

    def _paycrm_sync_retry_at(self):
        """When a run stopped by a busy or failing gateway may try again."""
        if self.sync_state not in ("partial", "error") or not self.sync_attempts:
            return False
        backoff = self.env["paycrm.event"]._paycrm_queue_backoff(
            self.sync_attempts, cap=const.SYNC_BACKOFF_CAP_SECONDS
        )
        return (self.sync_last_at or fields.Datetime.now()) + timedelta(seconds=backoff)

    # ----------------------------------------------------------------- run

    def _paycrm_sync_run(self, max_pages=None, commit=False):
        """Run (or resume) this gateway's sync; return ``{"state", "message",
        "found"}``. Pages stored before an error are kept."""
        self.ensure_one()
        gateway = self.sudo()
        cr = self.env.cr
        cr.execute(
            SQL("SELECT pg_try_advisory_lock(%s, %s)", SYNC_LOCK_KEY, gateway.id)
        )
        if not cr.fetchone()[0]:
            return {
                "state": "partial",
                "found": 0,
                "message": _(
                    "A sync of this gateway is already running: it stores what "
                    "it finds; nothing to do."
                ),
            }
        try:
            return gateway._paycrm_sync_pages(max_pages, commit)
        finally:
            cr.execute(
                SQL("SELECT pg_advisory_unlock(%s, %s)", SYNC_LOCK_KEY, gateway.id)
            )

    def _paycrm_sync_window(self):
        """Open a new run's window unless one is in progress."""
        self.invalidate_recordset()
        if self.sync_run_cursor:
            return
        # Up to the end of this second: events of this very second are listed
        # now, and one the gateway lists later is in the next run's overlap.
        now = fields.Datetime.now() + timedelta(seconds=1)
        since = self.sync_run_since or self.sync_watermark
        if self.sync_watermark and since >= self.sync_watermark:
            since = self.sync_watermark - timedelta(minutes=self.sync_overlap_minutes)
        since = max(
            since or self._paycrm_sync_default_start(), self._paycrm_sync_floor()
        )
        if self.sync_start:
            # The overlap never reaches before the first sync's start: events
            # before it were left out on purpose (booked some other way).
            since = max(since, self.sync_start)
        self.write(
            {
                "sync_run_since": since,
                "sync_run_until": now,
                "sync_run_found": 0,
                "sync_run_seen": 0,
            }
        )

    def _paycrm_sync_pages(self, max_pages, commit):
        self._paycrm_sync_window()
        adapter = self._paycrm_adapter()
        since, until = _epoch(self.sync_run_since), _epoch(self.sync_run_until)
        pages = 0
        missed = self.env["paycrm.event"]
        newest = 0
        while True:
            try:
                page = adapter.list_events(since, until, self.sync_run_cursor or "")
            except GatewayError as exc:
                return self._paycrm_sync_stopped(exc, pages, missed, commit)
            found, seen, created_newest = self._paycrm_sync_store(page.events)
            missed |= found
            newest = max(newest, created_newest)
            pages += 1
            self.write(
                {
                    "sync_run_cursor": page.cursor or False,
                    "sync_run_found": self.sync_run_found + len(found),
                    "sync_run_seen": self.sync_run_seen + seen,
                }
            )
            if commit:
                # A cron run: each page is kept, whatever happens to the next.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if not page.cursor:
                return self._paycrm_sync_finished(missed, newest)
            if max_pages and pages >= max_pages:
                # The cron goes on from the saved cursor.
                self.env.ref(SYNC_CRON)._trigger()
                return self._paycrm_sync_outcome(
                    "partial",
                    missed,
                    _(
                        "%(seen)s events listed so far, %(found)s of them new; "
                        "the rest is synced in the background.",
                        seen=self.sync_run_seen,
                        found=self.sync_run_found,
                    ),
                )

    def _paycrm_sync_store(self, listed):
        """Store the events of one page no webhook delivered; return ``(new
        events, events handled, newest creation time seen)``."""
        adapter_class = get_adapter_class(self.provider)
        live = self.state == "live"
        items, newest = [], 0
        for event in listed:
            if not isinstance(event, dict):
                continue
            try:
                envelope = adapter_class.envelope(event)
            except PayloadError as exc:
                _logger.warning(
                    "paycrm sync gateway %s: skipped an unreadable event (%s)",
                    self.id,
                    exc.field,
                )
                continue
            # Types the connector does not handle (PayPal lists them all),
            # the other mode's events and connected accounts' events are
            # none of this gateway's business.
            if envelope.event_type not in adapter_class.event_kinds:
                continue
            if "livemode" in event and envelope.livemode != live:
                continue
            if event.get("account"):
                continue
            newest = max(newest, envelope.created or 0)
            items.append((json.dumps(event).encode(), event))
        stored = self.env["paycrm.event"]._paycrm_store_many(
            self, items, from_sync=True
        )
        found = self.env["paycrm.event"].browse(
            [record.id for record, created in stored if created]
        )
        return found, len(items), newest

    def _paycrm_sync_finished(self, missed, newest):
        since, until = self.sync_run_since, self.sync_run_until
        found, seen = self.sync_run_found, self.sync_run_seen
        self.write(
            {
                "sync_watermark": max(until, self.sync_watermark or until),
                "sync_last_at": fields.Datetime.now(),
                "sync_state": "ok",
                "sync_last_found": found,
                "sync_attempts": 0,
                "sync_run_since": False,
                "sync_run_until": False,
                "sync_run_cursor": False,
            }
        )
        if found:
            message = _(
                "%(found)s event(s) no webhook had delivered were stored and "
                "queued for booking (%(seen)s listed since %(since)s).",
                found=found,
                seen=seen,
                since=format_datetime(self.env, since),
            )
        else:
            message = _(
                "Nothing missing: every one of the %(seen)s event(s) listed was "
                "already stored.",
                seen=seen,
            )
        self.sync_message = message
        self._paycrm_sync_alerts(missed, newest)
        return {"state": "ok", "message": message, "found": found}

    def _paycrm_sync_stopped(self, exc, pages, missed, commit):
        if commit:
            self.env.cr.rollback()
        attempts = self.sync_attempts + 1
        message = _(
            "Stopped after %(pages)s page(s): %(error)s. %(found)s new event(s) "
            "stored so far; the next sync resumes where this one stopped.",
            pages=pages,
            error=str(exc),
            found=self.sync_run_found,
        )
        state = "partial" if isinstance(exc, GatewayUnreachable) else "error"
        self.write(
            {
                "sync_state": state,
                "sync_message": message,
                "sync_last_at": fields.Datetime.now(),
                "sync_attempts": attempts,
            }
        )
        if state == "partial":
            # A busy or failing gateway: try again after a back-off.
            self.env.ref(SYNC_CRON)._trigger(self._paycrm_sync_retry_at())
        _logger.warning("paycrm sync gateway %s: %s", self.id, exc)
        if commit:
            # A cron run: each page is kept, whatever happens to the next.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self._paycrm_sync_alerts(missed, 0)
        return {"state": state, "message": message, "found": len(missed)}

    def _paycrm_sync_outcome(self, state, missed, message):
        self.write({"sync_message": message, "sync_last_at": fields.Datetime.now()})
        self._paycrm_sync_alerts(missed, 0)
        return {"state": state, "message": message, "found": len(missed)}

    def _paycrm_sync_alerts(self, missed, newest):
        """Tell someone when webhooks are being lost (paycrm.alert)."""
        alerts = self.env["paycrm.alert"].sudo()
        # Events created moments ago may still be on their way by webhook.
        grace = fields.Datetime.now() - timedelta(
            minutes=const.SYNC_MISSED_GRACE_MINUTES
        )
        late = missed.filtered(lambda e: e.created and e.created < grace)
        if late:
            alerts._paycrm_alert_webhook_missed(self, late)
        alerts._paycrm_alert_webhook_silent(
            self, _from_epoch(newest) if newest else False
        )
