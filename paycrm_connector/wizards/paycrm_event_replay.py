"""Replay a gateway's events over a date range: process the stored ones
again, fetch them again from the gateway, or start the first catch-up sync."""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

from .. import const
from ..gateways import GatewayError

REPLAYABLE_STATES = ("failed", "unmatched", "ignored")


class PaycrmEventReplay(models.TransientModel):
    _name = "paycrm.event.replay"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Replay Gateway Events"
    _check_company_auto = True
    _paycrm_guarded_fields = ("gateway_id",)

    gateway_id = fields.Many2one(
        "paycrm.gateway", required=True, domain="[('state', '!=', 'disabled')]"
    )
    company_id = fields.Many2one(related="gateway_id.company_id")
    sync_capable = fields.Boolean(related="gateway_id.sync_capable")
    mode = fields.Selection(
        [
            ("reprocess", "Process the stored events again"),
            ("refetch", "Fetch the events again from the gateway"),
        ],
        required=True,
        default="reprocess",
    )
    # Opened by the gateway's first Sync Now: where the sync starts, nothing
    # to replay yet.
    first_sync = fields.Boolean(readonly=True)
    date_from = fields.Datetime(
        string="From",
        required=True,
        default=lambda self: fields.Datetime.now() - timedelta(days=1),
    )
    date_to = fields.Datetime(
        string="To",
        default=fields.Datetime.now,
        help="Empty: up to now.",
    )
    summary = fields.Char(compute="_compute_summary")

    @api.depends("gateway_id", "mode", "first_sync", "date_from", "date_to")
    def _compute_summary(self):
        for wizard in self:
            if not (wizard.gateway_id and wizard.date_from):
                wizard.summary = False
            elif wizard.first_sync:
                wizard.summary = _(
                    "The first sync lists the gateway's events from this date "
                    "and stores those no webhook delivered. Later syncs go on "
                    "from where it ends."
                )
            elif wizard.mode == "reprocess":
                count = self.env["paycrm.event"].search_count(
                    wizard._paycrm_stored_domain()
                )
                wizard.summary = _(
                    "%(count)s failed, unmatched or ignored event(s) in this "
                    "range will be processed again; booked ones are left as "
                    "they are.",
                    count=count,
                )
            else:
                wizard.summary = _(
                    "The gateway lists its events of this range again; those "
                    "not stored yet are stored and booked, the others are left "
                    "as they are."
                )

    def _paycrm_stored_domain(self):
        domain = [
            ("gateway_id", "=", self.gateway_id.id),
            ("state", "in", REPLAYABLE_STATES),
            ("create_date", ">=", self.date_from),
        ]
        if self.date_to:
            domain.append(("create_date", "<", self.date_to))
        return domain

    def action_paycrm_replay(self):
        self.ensure_one()
        self._paycrm_guard()
        gateway = self.gateway_id
        gateway._paycrm_check_manager()
        if self.date_to and self.date_to <= self.date_from:
            raise UserError(_("The end of the range must come after its start."))
        if self.date_from > fields.Datetime.now():
            raise UserError(_("The range starts in the future: nothing happened yet."))
        if self.mode == "reprocess" and not self.first_sync:
            return gateway._paycrm_sync_notify(
                self._paycrm_reprocess(),
                _("Replay of %(gateway)s", gateway=gateway.display_name),
            )
        if gateway.state == "disabled":
            raise UserError(_("Enable the gateway before fetching its events."))
        if not gateway.sync_capable:
            raise UserError(
                _(
                    "%(gateway)s cannot list its events: only its stored events "
                    "can be processed again.",
                    gateway=gateway.display_name,
                )
            )
        floor = gateway._paycrm_sync_floor()
        if self.date_from < floor:
            raise UserError(
                _(
                    "The gateway lists its events of the last %(days)s days "
                    "only: start at %(floor)s or later.",
                    days=gateway._paycrm_can("event_history_days")
                    or const.SYNC_HISTORY_DAYS,
                    floor=format_datetime(self.env, floor),
                )
            )
        if self.first_sync:
            if gateway.sync_watermark or gateway.sync_run_cursor:
                raise UserError(
                    _(
                        "%(gateway)s is already synced: Sync Now goes on from "
                        "where the last sync ended; Replay Events fetches "
                        "earlier events again.",
                        gateway=gateway.display_name,
                    )
                )
            gateway._paycrm_sync_set_start(self.date_from)
            outcome = gateway._paycrm_sync_run(max_pages=const.SYNC_PAGES_PER_REQUEST)
        else:
            outcome = self._paycrm_refetch()
        return gateway._paycrm_sync_notify(outcome)

    def _paycrm_reprocess(self):
        events = self.env["paycrm.event"].search(self._paycrm_stored_domain())
        events.action_paycrm_reprocess()
        booked = events.filtered(lambda e: e.state == "done")
        return {
            "state": "ok",
            "found": len(events),
            "message": _(
                "%(count)s event(s) processed again, %(booked)s of them booked now.",
                count=len(events),
                booked=len(booked),
            ),
        }

    def _paycrm_refetch(self):
        """List the range once more, outside the sync's own run: a bounded
        number of pages in this request."""
        gateway = self.gateway_id.sudo()
        adapter = gateway._paycrm_adapter()
        since = int(self.date_from.timestamp())
        # "To" includes its own second.
        until = int((self.date_to or fields.Datetime.now()).timestamp()) + 1
        cursor, seen = "", 0
        found = self.env["paycrm.event"]
        limit = const.SYNC_PAGES_PER_REQUEST
        for _page in range(limit):
            try:
                page = adapter.list_events(since, until, cursor)
            except GatewayError as exc:
                return {
                    "state": "error",
                    "found": len(found),
                    "message": _(
                        "The gateway did not list the events: %(error)s. "
                        "%(found)s new event(s) stored before it stopped.",
                        error=str(exc),
                        found=len(found),
                    ),
                }
            new, handled, _newest = gateway._paycrm_sync_store(page.events)
            found |= new
            seen += handled
            cursor = page.cursor
            if not cursor:
                break
        else:
            return {
                "state": "partial",
                "found": len(found),
                "message": _(
                    "%(seen)s event(s) listed, %(found)s of them new, before "
                    "stopping at %(pages)s pages: pick a shorter range for the "
                    "rest.",
                    seen=seen,
                    found=len(found),
                    pages=limit,
                ),
            }
        return {
            "state": "ok",
            "found": len(found),
            "message": _(
                "%(seen)s event(s) listed, %(found)s of them new: stored and "
                "queued for booking.",
                seen=seen,
                found=len(found),
            )
            if found
            else _(
                "%(seen)s event(s) listed, all of them stored already: nothing to do.",
                seen=seen,
            ),
        }
