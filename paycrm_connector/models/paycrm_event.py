import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, formatLang

from .. import const
from ..gateways import GatewayError, get_adapter, get_adapter_class

_logger = logging.getLogger(__name__)
MANAGER = "paycrm_connector.group_paycrm_manager"
PROCESSOR_CRON = "paycrm_connector.ir_cron_paycrm_process_events"


# What the gateway said: never rewritten once stored (the payload may only be
# pruned to empty, see DESIGN.md "Secrets stay secret").
IMMUTABLE_EVENT_FIELDS = {
    "gateway_id",
    "company_id",
    "external_id",
    "event_type",
    "created",
    "livemode",
}


class PaycrmRetry(Exception):
    """The event cannot be applied yet (its payment is not booked): retry later."""


class PaycrmEvent(models.Model):
    _name = "paycrm.event"
    _description = "Gateway Webhook Event"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "external_id"
    _check_company_auto = True

    gateway_id = fields.Many2one(
        "paycrm.gateway", required=True, index=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    external_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(readonly=True)
    kind = fields.Selection(const.EVENT_KINDS, readonly=True, default="other")
    created = fields.Datetime(string="Sent At", readonly=True)
    livemode = fields.Boolean(
        string="Live",
        readonly=True,
        help="Sent by the gateway's live mode (real money); unticked for test "
        "mode and the demo gateway.",
    )
    # The raw body exactly as received: may hold customer data, managers only.
    payload = fields.Text(readonly=True, groups=MANAGER)
    title = fields.Char(
        compute="_compute_title",
        help="What happened, for how much and when, in words.",
    )
    payload_pretty = fields.Text(
        string="Payload (formatted)",
        compute="_compute_payload_pretty",
        groups=MANAGER,
        help="What the gateway sent, indented for reading.",
    )
    state = fields.Selection(
        const.EVENT_STATES,
        default="received",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    from_sync = fields.Boolean(
        string="Found by Sync",
        readonly=True,
        help="Stored by the catch-up sync, which lists the gateway's events over "
        "its API, before any webhook delivered it: a webhook that was lost or late.",
    )
    done_at = fields.Datetime(
        string="Booked At",
        readonly=True,
        help="When processing finished booking this event (the lag from arrival "
        "to books is read from it).",
    )
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    object_ref = fields.Char(string="Object", readonly=True)
    payment_ref = fields.Char(string="Payment", readonly=True, index=True)
    charge_ref = fields.Char(string="Charge", readonly=True, index=True)
    booking_key = fields.Char(readonly=True, copy=False)
    object_status = fields.Char(
        readonly=True,
        help="Status of the gateway object (payment, refund, dispute...) as this "
        "event reported it.",
    )
    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null")
    partner_id = fields.Many2one(related="invoice_id.partner_id")
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, index="btree_not_null"
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True)
    fee_amount = fields.Monetary(
        readonly=True, help="The gateway's fee, in the invoice's currency."
    )
    # What moved on the gateway's balance, in the balance's own currency (a
    # EUR payment on a USD account settles in USD): what the Tie-out compares.
    settle_currency_id = fields.Many2one(
        "res.currency", string="Balance Currency", readonly=True
    )
    settle_amount = fields.Monetary(
        string="Gross in Balance Currency",
        currency_field="settle_currency_id",
        readonly=True,
    )
    settle_fee = fields.Monetary(
        string="Fee in Balance Currency",
        currency_field="settle_currency_id",
        readonly=True,
    )
    # How the customer paid, when the gateway says (payments only).
    payment_method = fields.Char(
        readonly=True, help="As the gateway names it: card, sepa_debit, paypal..."
    )
    card_brand = fields.Char(readonly=True)
    card_country_id = fields.Many2one("res.country", readonly=True)

    _sql_constraints = [
        (
            "gateway_external_uniq",
            "UNIQUE(gateway_id, external_id)",
            "This gateway event is already stored.",
        ),
    ]

    # ---------------------------------------------------------------- compute

    def _paycrm_kind_titles(self):
        """Short nouns naming each kind of event in a title."""
        return {
            "payment_succeeded": _("Payment"),
            "payment_failed": _("Failed payment"),
            "payment_pending": _("Pending payment"),
            "payment_canceled": _("Canceled payment"),
            "refund_succeeded": _("Refund"),
            "refund_failed": _("Failed refund"),
            "dispute_opened": _("Dispute opened"),
            "dispute_funds_withdrawn": _("Dispute: funds withdrawn"),
            "dispute_funds_reinstated": _("Dispute: funds reinstated"),
            "dispute_closed": _("Dispute closed"),
            "payout_paid": _("Payout"),
            "payout_failed": _("Failed payout"),
            "session_expired": _("Checkout expired"),
        }

    @api.depends("kind", "event_type", "amount", "currency_id", "created")
    @api.depends_context("lang")
    def _compute_title(self):
        """``Payment of $ 100.00 on 12/01/2026``: what happened, for how much,
        when."""
        titles = self._paycrm_kind_titles()
        for event in self:
            what = titles.get(event.kind) or event.event_type or _("Gateway event")
            amount = event.currency_id and formatLang(
                self.env, event.amount, currency_obj=event.currency_id
            )
            date = event.created and format_date(self.env, event.created)
            if amount and date:
                title = _(
                    "%(what)s of %(amount)s on %(date)s",
                    what=what,
                    amount=amount,
                    date=date,
                )
            elif amount:
                title = _("%(what)s of %(amount)s", what=what, amount=amount)
            elif date:
                title = _("%(what)s on %(date)s", what=what, date=date)
            else:
                title = what
            event.title = title

    @api.depends("title", "payment_ref", "object_ref", "external_id")
    @api.depends_context("lang")
    def _compute_display_name(self):
        """The title and the gateway's own reference to look it up there:
        ``Payment of $ 100.00 on 12/01/2026 (demo_pay_x)``."""
        for event in self:
            ref = event.payment_ref or event.object_ref or event.external_id
            event.display_name = f"{event.title} ({ref})" if ref else event.title

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for event in self:
            if not event.payload:
                event.payload_pretty = False
                continue
            try:
                event.payload_pretty = json.dumps(
                    json.loads(event.payload), indent=2, ensure_ascii=False
                )
            except ValueError:
                event.payload_pretty = event.payload

    def _paycrm_settles_apart(self):
        """Whether this booked money settled in another currency than the
        invoice's."""
        self.ensure_one()
        return bool(self.settle_currency_id) and (
            self.settle_currency_id != self.currency_id
        )

    def _paycrm_settled(self):
        """``(balance currency, gross, fee)`` this booking moved on the
        gateway's balance (events booked before balance currencies were
        recorded settled in the invoice's currency)."""
        self.ensure_one()
        if self.settle_currency_id:
            return self.settle_currency_id, self.settle_amount, self.settle_fee
        return self.currency_id, self.amount, self.fee_amount

    def init(self):
        # One booking per gateway object (payment, refund, dispute step,
        # payout), whichever of its events comes first.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS paycrm_event_booking_key_uniq "
                "ON paycrm_event (gateway_id, booking_key) "
                "WHERE booking_key IS NOT NULL"
            )
        )

    # ---------------------------------------------------------------- intake

    @api.model
    def _paycrm_intake(self, gateway, payload, headers):
        """Verify, decode and store one raw webhook body; return ``(record,
        created, envelope)``.

        The one way in for every gateway event: the webhook route, and the
        demo gateway's own signed events (its checkout page, its refunds),
        handed over in process. Raises ``SignatureError`` when the gateway did
        not sign the body, ``PayloadError`` when it is not an event we can
        store, ``GatewayError`` when the gateway is not configured to verify
        anything. An event the gateway's verification service cannot vouch
        for right now (PayPal's API down) is stored unverified: it is asked
        about again before anything is booked.
        """
        settings = gateway._paycrm_webhook_settings(gateway.id)
        # Outside the verification below: a gateway that cannot check a
        # signature (Stripe without its secret key) must not store events as
        # "verify later".
        adapter = get_adapter(settings.config)
        unverified = False
        try:
            adapter.verify_webhook(payload, headers)
        except GatewayError as exc:
            _logger.warning(
                "paycrm webhook gateway %s: not verified (%s)", gateway.id, exc
            )
            unverified = True
        # The store checks the envelope again, for callers other than this one.
        event, envelope = adapter.read_event(payload)
        if unverified:
            record, created = self._paycrm_store_unverified(
                gateway, payload, event, dict(headers)
            )
        else:
            record, created = self._paycrm_store(gateway, payload, event)
        return record, created, envelope

    @api.model
    def _paycrm_store(self, gateway, payload, event):
        """Insert a verified event; return ``(record, created)``."""
        return self._paycrm_store_many(gateway, [(payload, event)])[0]

    @api.model
    def _paycrm_store_many(self, gateway, items, from_sync=False):
        """Insert verified events ``items`` (``(payload, decoded event)``
        pairs); return one ``(record, created)`` per item, in order.

        One ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (gateway, event
        id) pair: a redelivery is a no-op without a savepoint or an error in
        the request's transaction, and a page of events found by the sync
        costs one statement. The plain INSERT also spares the intake the ORM
        and chatter work a webhook never needs (the row has no followers and
        no computed columns). ``from_sync``: listed over the gateway's API
        (authentic, fetched with its secret key), not delivered by webhook.
        """
        rows = [self._paycrm_intake_vals(gateway, p, e) for p, e in items]
        if not rows:
            return []
        for vals in rows:
            vals["from_sync"] = from_sync
        # sudo: the webhook request is public; the gateway signature (or its
        # API, for the sync) has just authenticated the body.
        model = self.sudo()
        columns = list(dict.fromkeys(column for vals in rows for column in vals))
        now = SQL("(now() at time zone 'UTC')")
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s)",
                # As the ORM would store them (False is NULL, dates as text).
                SQL(", ").join(
                    self._fields[column].convert_to_column_insert(
                        vals.get(column, False), model
                    )
                    for column in columns
                ),
                self.env.uid,
                self.env.uid,
                now,
                now,
            )
            for vals in rows
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO paycrm_event (%s, create_uid, write_uid,
                                          create_date, write_date)
                VALUES %s
                ON CONFLICT (gateway_id, external_id) DO NOTHING
                RETURNING id, external_id
                """,
                SQL(", ").join(SQL.identifier(column) for column in columns),
                values,
            )
        )
        new_ids = {external_id: id_ for id_, external_id in self.env.cr.fetchall()}
        external_ids = [vals["external_id"] for vals in rows]
        stored = {}
        if len(new_ids) < len(set(external_ids)):
            stored = {
                event.external_id: event
                for event in model.search(
                    [
                        ("gateway_id", "=", gateway.id),
                        ("external_id", "in", list(set(external_ids) - set(new_ids))),
                    ]
                )
            }
        result, seen = [], set()
        for external_id in external_ids:
            # The same id twice in one batch: stored once, by its first copy.
            created = external_id in new_ids and external_id not in seen
            seen.add(external_id)
            if external_id in new_ids:
                result.append((model.browse(new_ids[external_id]), created))
            else:
                result.append((stored.get(external_id, model), False))
        settings = gateway._paycrm_webhook_settings(gateway.id)
        received = any(
            vals["state"] == "received" and vals["external_id"] in new_ids
            for vals in rows
        )
        if received and settings.state != "disabled":
            # One trigger per processor run, not per event (paycrm.queue.mixin).
            self._paycrm_queue_trigger()
        return result

    @api.model
    def _paycrm_intake_vals(self, gateway, payload, event):
        """Column values of a new event; ``PayloadError`` (nothing stored)
        when its id, type or time is not fit to store, whoever stores it."""
        settings = gateway._paycrm_webhook_settings(gateway.id)
        envelope = get_adapter_class(settings.config.provider).envelope(event)
        vals = {
            "gateway_id": gateway.id,
            "company_id": settings.company_id,
            "external_id": envelope.external_id,
            "event_type": envelope.event_type,
            "kind": envelope.kind,
            "payload": payload.decode("utf-8", "replace"),
            "livemode": envelope.livemode,
            "state": "received",
        }
        if envelope.created is not None:
            vals["created"] = fields.Datetime.to_string(
                fields.Datetime.from_string("1970-01-01")
                + timedelta(seconds=envelope.created)
            )
        if vals["kind"] == "other":
            vals["state"] = "ignored"
            vals["last_error"] = (
                self.env._(envelope.reason)
                if envelope.reason
                else _("Event type not handled by the connector.")
            )
        return vals

    # --------------------------------------------------------------- actions

    def action_paycrm_reprocess(self):
        """Queue failed, unmatched or ignored events again and process them now."""
        if not self.env.user.has_group(MANAGER):
            raise UserError(_("Only connector administrators can reprocess events."))
        # Processing reads payloads and gateway keys as superuser.
        self.check_access("write")
        events = self.filtered(lambda e: e.state in ("failed", "unmatched", "ignored"))
        events.write(
            {"state": "received", "attempts": 0, "next_try": False, "last_error": False}
        )
        for event in events:
            if event.gateway_id.state != "disabled":
                event._paycrm_process_one()
        return True

    def action_paycrm_reprocess_selected(self):
        """Reprocess from the list: say what became of the selection."""
        replayable = self.filtered(
            lambda e: e.state in ("failed", "unmatched", "ignored")
        )
        self.action_paycrm_reprocess()
        booked = replayable.filtered(lambda e: e.state == "done")
        message = _(
            "%(count)s event(s) processed again, %(booked)s of them booked now; "
            "%(left)s left as they were (booked or waiting for processing).",
            count=len(replayable),
            booked=len(booked),
            left=len(self) - len(replayable),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Reprocess"),
                "message": message,
                "type": "success" if len(booked) == len(replayable) else "warning",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_paycrm_match(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Match to Invoice"),
            "res_model": "paycrm.event.match",
            "view_mode": "form",
            "target": "new",
            "context": {"default_event_id": self.id},
        }

    def _paycrm_json(self):
        # sudo: the payload is managers-only; the processor reads it as a job.
        return json.loads(self.sudo().payload)

    def write(self, vals):
        if IMMUTABLE_EVENT_FIELDS & vals.keys() or vals.get("payload"):
            raise UserError(
                _(
                    "Gateway events are an immutable log: what the gateway sent "
                    "cannot be edited. Reprocess or match the event instead."
                )
            )
        if vals.get("state") == "received":
            for event in self.filtered(lambda e: e.state != "received"):
                event.message_post(
                    body=_(
                        "Reprocessed by %(user)s (was %(state)s).",
                        user=self.env.user.name,
                        state=event.state,
                    )
                )
        if vals.get("state") == "done" and "done_at" not in vals:
            vals = {**vals, "done_at": fields.Datetime.now()}
        res = super().write(vals)
        if vals.get("state") == "done":
            self.env["paycrm.alert"]._paycrm_alert_touch("events", self.ids)
            # Failed attempts and preferred gateway live on the profile.
            self.env["paycrm.profile"]._paycrm_profile_touch(
                self.invoice_id.commercial_partner_id.ids
            )
        return res
