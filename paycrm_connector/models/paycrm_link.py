import dataclasses
import time
from datetime import datetime, timedelta, timezone

import babel.dates

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, formatLang
from odoo.tools.misc import babel_locale_parse, get_lang

from .. import const
from ..gateways import CheckoutRequest, GatewayError, get_adapter, money


class PaycrmSessionQuota(UserError):
    """The invoice's link opened its hourly share of new checkout sessions."""


class PaycrmLink(models.Model):
    """One hosted checkout session handed out behind an invoice's stable URL."""

    _name = "paycrm.link"
    _description = "Payment Link Session"
    _order = "id desc"
    _check_company_auto = True
    _rec_name = "session_ref"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    gateway_id = fields.Many2one(
        "paycrm.gateway", required=True, ondelete="restrict", check_company=True
    )
    company_id = fields.Many2one(
        related="move_id.company_id", store=True, index=True, precompute=True
    )
    partner_id = fields.Many2one(related="move_id.partner_id")
    provider = fields.Selection(related="gateway_id.provider")
    currency_id = fields.Many2one("res.currency", required=True)
    amount = fields.Monetary(required=True)
    amount_minor = fields.Integer(
        required=True, help="Amount as the gateway sees it, in minor units."
    )
    session_ref = fields.Char(string="Session", readonly=True, copy=False)
    url = fields.Char(string="Hosted Page", readonly=True, copy=False)
    expires_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        const.LINK_SESSION_STATES, required=True, default="open", index=True
    )
    attempt = fields.Integer(readonly=True, default=1)
    open_count = fields.Integer(string="Clicks", readonly=True, default=0)
    last_opened = fields.Datetime(readonly=True)
    expire_tries = fields.Integer(readonly=True, default=0)
    capture_tries = fields.Integer(
        string="Refused Attempts",
        readonly=True,
        default=0,
        help="Refused payments on this session: captures refused on the payer's "
        "return, cards declined on the demo page. Each retry gets its own "
        "gateway payment id from it.",
    )
    last_error = fields.Char(readonly=True)
    save_method = fields.Boolean(
        readonly=True,
        help="The customer asked to save the payment method for future invoices.",
    )

    _sql_constraints = [
        (
            "session_uniq",
            "UNIQUE(gateway_id, session_ref)",
            "A gateway session belongs to one payment link.",
        ),
        (
            "amount_positive",
            "CHECK(amount_minor > 0)",
            "Links charge a positive amount.",
        ),
    ]

    # ------------------------------------------------------------- checkout

    @api.model
    def _paycrm_minor(self, currency, amount, gateway=None):
        exponent = money.stripe_exponent(currency.name, currency.decimal_places)
        if gateway:
            # The gateway's own minor unit (PayPal counts HUF in whole units);
            # raises GatewayRefused for a currency the gateway does not take.
            adapter = gateway._paycrm_adapter()
            exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        return money.to_minor(amount, exponent)

    @api.model
    def _paycrm_from_minor(self, currency, amount_minor):
        exponent = money.stripe_exponent(currency.name, currency.decimal_places)
        return money.from_minor(amount_minor, exponent)

    @api.model
    def _paycrm_lock_move(self, move):
        """Lock the invoice row so parallel clicks hand out one session.

        NOWAIT: a second click fails at once with LockNotAvailable and Odoo's
        request retry (service.model.retrying) replays it in a fresh transaction,
        which sees the winner's session. Touching the row also makes a click whose
        snapshot predates the winner's commit fail with a serialization error
        instead of creating a second session; raw SQL because the ORM write of
        account.move runs its whole accounting check chain for one timestamp.
        """
        # log_exceptions=False: a lost race is expected, not a "bad query".
        self.env.cr.execute(
            SQL("SELECT id FROM account_move WHERE id = %s FOR UPDATE NOWAIT", move.id),
            log_exceptions=False,
        )
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET paycrm_link_last_opened = "
                "(now() AT TIME ZONE 'UTC') WHERE id = %s",
                move.id,
            )
        )
        move.invalidate_recordset(["paycrm_link_last_opened"])
        self.env["paycrm.link.sender"]._paycrm_note_link_opened(move)

    @api.model
    def _paycrm_in_flight(self, move):
        """What the customer has paid through ``move``'s sessions that the
        gateway's event has not booked yet (submitted, or captured on return):
        a session leaves this state when its payment is booked (paid)."""
        links = self.search([("move_id", "=", move.id), ("state", "=", "submitted")])
        in_flight = sum(links.mapped("amount"))
        if not links and move._paycrm_is_payment_pending():
            # A debit charged without a session (auto-pay) is in flight too;
            # one paid through a session is that session's amount already.
            in_flight += move.sudo().paycrm_pending_amount
        return in_flight

    @api.model
    def _paycrm_recent_payment(self, move, hours=1):
        """The latest session of ``move`` a payment went through lately (in
        flight, or booked in the last ``hours``), if any: the return page
        thanks only for it."""
        since = fields.Datetime.subtract(fields.Datetime.now(), hours=hours)
        return self.search(
            [
                ("move_id", "=", move.id),
                "|",
                ("state", "=", "submitted"),
                "&",
                ("state", "=", "paid"),
                ("write_date", ">=", since),
            ],
            order="id desc",
            limit=1,
        )

    @api.model
    def _paycrm_check_payable(self, move, amount=None, gateway=None):
        """Return ``(gateway, amount)`` or raise a UserError saying what to fix.

        ``gateway``: the customer's choice among ``_paycrm_gateway_choices``.
        """
        if move.move_type != "out_invoice" or move.state != "posted":
            raise UserError(
                _(
                    "%(invoice)s is not a posted customer invoice.",
                    invoice=move.display_name,
                )
            )
        gateway = gateway or move._paycrm_gateway()
        if (
            not gateway
            or gateway.state == "disabled"
            or gateway.company_id != move.company_id
        ):
            raise UserError(
                _(
                    "No enabled payment gateway for %(company)s: choose one on the "
                    "invoice or in the Invoicing settings.",
                    company=move.company_id.name,
                )
            )
        # Money already paid through a session whose event is not booked yet
        # is not asked for again (a second click right after paying).
        residual = move.amount_residual - self._paycrm_in_flight(move)
        if amount is None or move.currency_id.compare_amounts(amount, residual) > 0:
            amount = residual
        if move.currency_id.compare_amounts(amount, 0) <= 0:
            raise UserError(
                _("%(invoice)s has nothing left to pay.", invoice=move.display_name)
            )
        return gateway, amount

    @api.model
    def _paycrm_checkout_for(self, move, amount=None, gateway=None, save_method=False):
        """The open session for ``move``'s residual (or ``amount``), reused or new.

        Returns ``(link, created)``. Gateway failures raise ``GatewayError`` and
        leave nothing behind (the new row lives in a savepoint). Past
        ``LINK_MAX_NEW_SESSIONS_PER_HOUR`` new sessions of the invoice in the
        last hour, ``PaycrmSessionQuota``: whoever holds the link can switch
        gateways on every click, and each switch opens a session.
        """
        move.ensure_one()
        self._paycrm_lock_move(move)
        gateway, amount = self._paycrm_check_payable(move, amount, gateway)
        currency = move.currency_id
        amount_minor = self._paycrm_minor(currency, amount, gateway)
        now = fields.Datetime.now()
        same = [
            ("move_id", "=", move.id),
            ("gateway_id", "=", gateway.id),
            ("currency_id", "=", currency.id),
            ("amount_minor", "=", amount_minor),
        ]
        margin = timedelta(minutes=const.LINK_REUSE_MARGIN_MINUTES)
        link = self.search(
            [
                *same,
                ("state", "=", "open"),
                ("save_method", "=", bool(save_method)),
                ("expires_at", ">", now + margin),
            ],
            limit=1,
        )
        if link:
            link._paycrm_opened()
            return link, False
        recent = self.search_count(
            [("move_id", "=", move.id), ("create_date", ">", now - timedelta(hours=1))]
        )
        if recent >= const.LINK_MAX_NEW_SESSIONS_PER_HOUR:
            raise PaycrmSessionQuota(
                self.env._(
                    "%(invoice)s opened %(count)s checkout sessions in the last "
                    "hour; try again later.",
                    invoice=move.display_name,
                    count=recent,
                )
            )
        attempt = self.search_count(same) + 1
        with self.env.cr.savepoint():
            link = self.create(
                {
                    "move_id": move.id,
                    "gateway_id": gateway.id,
                    "currency_id": currency.id,
                    "amount": amount,
                    "amount_minor": amount_minor,
                    "attempt": attempt,
                    "save_method": bool(save_method),
                    "open_count": 1,
                    "last_opened": now,
                }
            )
            session = link._paycrm_create_session()
            link.write(
                {
                    "session_ref": session.session_id,
                    "url": session.url,
                    "expires_at": datetime.fromtimestamp(
                        session.expires_at, tz=timezone.utc
                    ).replace(tzinfo=None),
                }
            )
        # Older open sessions of this invoice now ask for a stale amount.
        stale = self.search(
            [("move_id", "=", move.id), ("state", "=", "open"), ("id", "!=", link.id)]
        )
        stale._paycrm_schedule_expiry()
        link._paycrm_log(
            _(
                "Checkout opened for %(amount)s on %(gateway)s (expires in "
                "%(lifetime)s).",
                amount=link._paycrm_amount_label(),
                gateway=gateway.name,
                lifetime=link._paycrm_lifetime_label(),
            )
        )
        return link, True

    @api.model
    def _paycrm_open_checkouts(self, moves):
        """A checkout session for each of ``moves`` now (for staff who want the
        gateway URL itself, e.g. for a phone call); a gateway failure is a
        UserError that names the invoice."""
        links = self.browse()
        for move in moves:
            try:
                links |= self._paycrm_checkout_for(move)[0]
            except GatewayError as exc:
                raise UserError(
                    _(
                        "%(gateway)s could not open a checkout for %(invoice)s: "
                        "%(reason)s",
                        gateway=move._paycrm_gateway().name,
                        invoice=move.display_name,
                        reason=str(exc),
                    )
                ) from exc
        return links

    def _paycrm_create_session(self):
        self.ensure_one()
        move, gateway = self.move_id, self.gateway_id
        customer_ref = ""
        if gateway._paycrm_can("syncs_customers"):
            customer_ref = self._paycrm_customer_ref(
                move.commercial_partner_id, gateway
            )
        lifetime = int(gateway.link_lifetime_hours * 3600)
        url_model = self.env["paycrm.link.url"]
        request = CheckoutRequest(
            invoice_id=move.id,
            invoice_name=move.name,
            amount_minor=self.amount_minor,
            currency=self.currency_id.name,
            success_url=url_model._paycrm_pay_url(move, suffix="/done"),
            cancel_url=url_model._paycrm_pay_url(move, suffix="/cancel"),
            expires_at=int(time.time()) + lifetime,
            idempotency_key=f"paycrm-link-{self.env.cr.dbname}-{gateway.id}-{move.id}-"
            f"{self.amount_minor}{self.currency_id.name}-{self.attempt}",
            customer_ref=customer_ref,
            customer_email=move.partner_id.email or "",
            description=move.name,
            metadata=self._paycrm_metadata(),
            # Saving needs the gateway customer the method is attached to.
            save_method=bool(self.save_method and customer_ref),
        )
        config = gateway._paycrm_config()
        # The demo gateway's hosted page is ours: served at the configured base
        # URL, like the return URLs above, never at the request's Host.
        config = dataclasses.replace(
            config, extra={**config.extra, "base_url": move.get_base_url()}
        )
        return get_adapter(config).create_checkout(request)

    def _paycrm_metadata(self):
        self.ensure_one()
        move = self.move_id
        return {
            const.META_INVOICE_ID: str(move.id),
            const.META_INVOICE_NAME: move.name,
            const.META_COMPANY_ID: str(move.company_id.id),
            const.META_DB: self.env.cr.dbname,
            const.META_LINK_ID: str(self.id),
        }

    @api.model
    def _paycrm_customer_ref(self, partner, gateway):
        """The partner's gateway customer; created on first use, not re-synced
        on each click (that would add a gateway round trip to every click)."""
        # sudo: the reference table is technical, the public pay page reads it.
        ref_sudo = (
            self.env["paycrm.customer.ref"]
            .sudo()
            .search(
                [("partner_id", "=", partner.id), ("gateway_id", "=", gateway.id)],
                limit=1,
            )
        )
        return ref_sudo.reference or partner._paycrm_ensure_customer(gateway)

    def _paycrm_opened(self):
        for link in self:
            if not link.open_count:
                link._paycrm_log(
                    _(
                        "Checkout opened for %(amount)s on %(gateway)s (expires in "
                        "%(lifetime)s).",
                        amount=link._paycrm_amount_label(),
                        gateway=link.gateway_id.name,
                        lifetime=link._paycrm_lifetime_label(),
                    )
                )
            link.write(
                {
                    "open_count": link.open_count + 1,
                    "last_opened": fields.Datetime.now(),
                }
            )

    def _paycrm_amount_label(self):
        """The session's amount as staff read money: ``$ 1,800.00``."""
        self.ensure_one()
        return formatLang(self.env, self.amount, currency_obj=self.currency_id)

    def _paycrm_lifetime_label(self):
        """How long the session stays valid from now, in words (``1 day``)."""
        self.ensure_one()
        left = (self.expires_at or fields.Datetime.now()) - fields.Datetime.now()
        return babel.dates.format_timedelta(
            max(left, timedelta(minutes=1)),
            locale=babel_locale_parse(get_lang(self.env).code),
        )

    def _paycrm_log(self, body):
        """A line in the invoice's chatter. A customer's click is written in
        the customer's name, not "Public user"; staff actions in their own."""
        for link in self:
            author = link.move_id.partner_id if self.env.user._is_public() else None
            link.move_id._message_log(
                body=body, author_id=author.id if author else None
            )

    # --------------------------------------------------------------- closing

    @api.model
    def _paycrm_mark_paid(self, session_ref, gateway=None):
        """Called by the webhook side when a session's payment succeeded.

        Returns the link (empty if unknown). Other open sessions of the invoice are
        queued for expiry when the invoice has nothing left to pay.
        """
        domain = [("session_ref", "=", session_ref)]
        if gateway:
            domain.append(("gateway_id", "=", gateway.id))
        link = self.search(domain, limit=1)
        if link and link.state != "paid":
            link.state = "paid"
            link._paycrm_log(
                _("Checkout for %(amount)s paid.", amount=link._paycrm_amount_label())
            )
        self._paycrm_queue_finished_invoices(link.move_id)
        return link

    @api.model
    def _paycrm_mark_failed(self, session_ref, gateway):
        """A session's submitted payment failed (a delayed debit bounced, a
        pending capture was denied): it is no longer in flight, and the
        session is spent, so the stable link opens a new one."""
        link = self.search(
            [
                ("session_ref", "=", session_ref),
                ("gateway_id", "=", gateway.id),
                ("state", "=", "submitted"),
            ],
            limit=1,
        )
        if link:
            link.state = "expired"
            link._paycrm_log(
                _(
                    "The payment of %(amount)s at checkout failed: the link asks "
                    "for the amount again.",
                    amount=link._paycrm_amount_label(),
                )
            )
        return link
