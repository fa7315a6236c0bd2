import logging
import secrets
from collections import namedtuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .. import const
from ..gateways import (
    ADAPTERS,
    GatewayConfig,
    GatewayError,
    get_adapter,
    get_adapter_class,
)

_logger = logging.getLogger(__name__)

MANAGER = "paycrm_connector.group_paycrm_manager"

# What the webhook intake needs of a gateway (see _paycrm_webhook_settings).
WebhookSettings = namedtuple("WebhookSettings", "company_id state config")


class PaycrmGateway(models.Model):
    _name = "paycrm.gateway"
    _description = "Payment Gateway"
    _inherit = ["mail.thread"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    provider = fields.Selection(
        const.PROVIDERS, required=True, default="demo", tracking=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        const.GATEWAY_STATES,
        required=True,
        default="test",
        tracking=True,
        help="Disabled: no new links, but webhooks are still verified and stored "
        "so nothing is lost. Test: the gateway's test keys. Live: real money.",
    )
    is_default = fields.Boolean(
        string="Default for Company",
        compute="_compute_is_default",
        inverse="_inverse_is_default",
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Clearing Journal",
        check_company=True,
        domain="[('type', '=', 'bank')]",
        tracking=True,
        help="Money held by the gateway: payments land here, payouts leave it. "
        "Created on save when left empty.",
    )
    fee_account_id = fields.Many2one(
        "account.account",
        string="Fee Expense Account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        tracking=True,
    )
    # Secrets: readable by connector administrators only, never tracked.
    secret_key = fields.Char(groups=MANAGER, copy=False)
    publishable_key = fields.Char(copy=False)
    webhook_secret = fields.Char(
        groups=MANAGER,
        copy=False,
        help="Signing secret of the webhook endpoint (Stripe: whsec_...). "
        "Generated for the demo gateway.",
    )
    paypal_client_id = fields.Char(
        string="PayPal Client ID",
        groups=MANAGER,
        copy=False,
        help="Client ID of the REST app (PayPal developer dashboard, Apps & "
        "Credentials); its secret goes in Secret Key. Test mode uses the sandbox app.",
    )
    paypal_webhook_id = fields.Char(
        string="PayPal Webhook ID",
        groups=MANAGER,
        copy=False,
        help="ID PayPal shows once the Webhook URL below is added to the app. "
        "Every event is checked with PayPal against it before it is stored.",
    )
    api_base_url = fields.Char(
        string="API Base URL",
        help="Leave empty for the gateway's real endpoint. Set it to point the "
        "gateway at a local stand-in (stripe-mock, localstripe) for testing.",
    )
    timeout = fields.Float(string="Timeout (s)", default=10.0)
    max_network_retries = fields.Integer(default=2)
    link_lifetime_hours = fields.Float(
        string="Link Session Lifetime (h)",
        default=24.0,
        help="How long a hosted checkout session stays valid; a click after that "
        "creates a new one. Stripe accepts 0.5 to 24 hours.",
    )
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        help="Paste this URL in the gateway's dashboard as the webhook endpoint.",
    )
    payout_journal_id = fields.Many2one(
        "account.journal",
        string="Payout Bank Journal",
        check_company=True,
        domain="[('type', '=', 'bank'), ('id', '!=', journal_id)]",
        tracking=True,
        help="The company bank account payouts arrive in. Empty: the company's "
        "first bank journal other than the clearing journal.",
    )
    event_max_attempts = fields.Integer(
        string="Event Retries",
        default=5,
        help="Tries before an event whose processing keeps failing (gateway "
        "unreachable, payment not known yet) is marked failed.",
    )
    bad_signature_count = fields.Integer(
        readonly=True,
        copy=False,
        help="Webhook posts rejected for a bad or missing signature.",
    )
    event_count = fields.Integer(compute="_compute_event_count")
    connection_state = fields.Selection(
        const.CONNECTION_STATES, default="unknown", readonly=True, copy=False
    )
    connection_message = fields.Char(readonly=True, copy=False)
    connection_checked_at = fields.Datetime(readonly=True, copy=False)

    # ---------------------------------------------------------------- compute

    @api.depends("company_id.paycrm_gateway_id")
    def _compute_is_default(self):
        for gateway in self:
            gateway.is_default = gateway.company_id.paycrm_gateway_id == gateway

    def _inverse_is_default(self):
        for gateway in self:
            company = gateway.company_id
            if gateway.is_default:
                # sudo: res.company is writable by system admins only, and this
                # user may already edit the gateway of this company.
                company.sudo().paycrm_gateway_id = gateway
            elif company.paycrm_gateway_id == gateway:
                company.sudo().paycrm_gateway_id = False

    @api.depends("provider")
    def _compute_webhook_url(self):
        for gateway in self:
            if gateway.id:
                gateway.webhook_url = (
                    f"{gateway.get_base_url()}/paycrm/webhook/{gateway.id}"
                )
            else:
                gateway.webhook_url = False

    def _compute_event_count(self):
        counts = dict(
            self.env["paycrm.event"]._read_group(
                [("gateway_id", "in", self.ids)], ["gateway_id"], ["__count"]
            )
        )
        for gateway in self:
            gateway.event_count = counts.get(gateway, 0)

    # ------------------------------------------------------------ constraints

    @api.constrains("link_lifetime_hours", "provider")
    def _check_link_lifetime_hours(self):
        for gateway in self:
            hours = gateway.link_lifetime_hours
            bounds = gateway._paycrm_can("session_hours")
            if bounds and not bounds[0] <= hours <= bounds[1]:
                raise ValidationError(
                    _(
                        "%(provider)s checkout sessions live between %(low)s and "
                        "%(high)s hours; %(hours)s is outside.",
                        provider=gateway._paycrm_provider_label(),
                        low=bounds[0],
                        high=bounds[1],
                        hours=hours,
                    )
                )
            if hours <= 0:
                raise ValidationError(_("The link session lifetime must be positive."))

    @api.constrains("timeout", "max_network_retries")
    def _check_timeout(self):
        for gateway in self:
            if gateway.timeout <= 0 or gateway.max_network_retries < 0:
                raise ValidationError(
                    _("Timeout must be positive and retries zero or more.")
                )

    @api.constrains("api_base_url")
    def _check_api_base_url(self):
        for gateway in self:
            url = gateway.api_base_url
            if url and not url.startswith(("http://", "https://")):
                raise ValidationError(
                    _("The API base URL must start with http:// or https://.")
                )

    # ------------------------------------------------------------------- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        default = self.default_get(["provider"]).get("provider")
        for vals in vals_list:
            # An unknown provider is for the selection to refuse.
            adapter = ADAPTERS.get(vals.get("provider", default))
            if (
                adapter
                and adapter.generates_webhook_secret
                and not vals.get("webhook_secret")
            ):
                vals["webhook_secret"] = secrets.token_hex(32)
        gateways = super().create(vals_list)
        # An id the webhook intake has cached as unknown may exist now.
        self.env.registry.clear_cache()
        for gateway in gateways:
            gateway._paycrm_ensure_accounts()
            if not gateway.company_id.paycrm_gateway_id and gateway.state != "disabled":
                gateway.is_default = True
        gateways._paycrm_give_links()
        return gateways

    def write(self, vals):
        enabling = (
            self.filtered(lambda g: g.state == "disabled")
            if vals.get("state") not in (None, "disabled")
            else self.browse()
        )
        res = super().write(vals)
        # Invoices posted while no gateway was enabled get their link now.
        enabling._paycrm_give_links()
        if vals.get("state") == "disabled":
            # A disabled gateway takes no payment: close the checkout sessions
            # customers may still hold (at the gateway too, by the expiry cron).
            self.env["paycrm.link"].sudo().search(
                [("gateway_id", "in", self.ids), ("state", "=", "open")]
            )._paycrm_schedule_expiry()
        # Gateways change rarely; any change reaches the webhook intake's cached
        # settings at once, in every worker (Odoo signals cache clears).
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_default(self):
        if any(gateway.is_default for gateway in self):
            raise UserError(
                _("Choose another default gateway before deleting this one.")
            )

    # ---------------------------------------------------------------- actions

    def _paycrm_give_links(self):
        """Open invoices of these gateways' companies posted without a link
        (before installation, or while no gateway was enabled) get one."""
        enabled = self.filtered(lambda g: g.state != "disabled")
        if not enabled:
            return self.env["account.move"]
        # sudo: enabling a gateway needs no right on every invoice; only
        # the gateway and portal token of open invoices are written.
        return (
            self.env["paycrm.link.url"]
            .sudo()
            ._paycrm_give_company_links(enabled.company_id)
        )

    def action_paycrm_give_links(self):
        """On demand (Action menu): give every open invoice of these gateways'
        companies its payment link."""
        self.check_access("write")
        enabled = self.filtered(lambda g: g.state != "disabled")
        # sudo: a gateway manager needs no right on every invoice; only the
        # gateway and portal token of open invoices are written.
        url_model = self.env["paycrm.link.url"].sudo()
        moves = url_model.env["account.move"].search(
            url_model._paycrm_open_invoices_domain(enabled.company_id)
        )
        return url_model._paycrm_action_give_links(moves)

    def action_paycrm_test_connection(self):
        self.ensure_one()
        # The call uses the secret key read as superuser: first make sure this
        # user may manage this very gateway (any id can come over RPC).
        self.check_access("write")
        try:
            message = self._paycrm_adapter().check_connection()
            state, kind = "ok", "success"
        except GatewayError as exc:
            message, kind = str(exc), "danger"
            # A refusal (the gateway understood and said no) has no state of
            # its own here: it is an error like any other answer.
            states = dict(const.CONNECTION_STATES)
            state = exc.kind if exc.kind in states else "error"
        self.write(
            {
                "connection_state": state,
                "connection_message": message,
                "connection_checked_at": fields.Datetime.now(),
            }
        )
        _logger.info("paycrm gateway %s connection check: %s", self.id, state)
        return self._paycrm_notification(
            _("Test connection: %(name)s", name=self.name),
            message,
            kind,
            {"type": "ir.actions.act_window_close"},
        )

    def _paycrm_notification(self, title, message, kind, next_action=None):
        """A notification answering a gateway button; it stays until read
        unless all went well, then ``next_action`` (default: reload the form
        to show what changed)."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                "next": next_action
                or {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_paycrm_generate_webhook_secret(self):
        for gateway in self.filtered(
            lambda g: g._paycrm_can("generates_webhook_secret")
        ):
            gateway.webhook_secret = secrets.token_hex(32)

    # --------------------------------------------------------------- business

    def _paycrm_ensure_accounts(self):
        """Give the gateway a clearing journal and a fee account if it has none."""
        self.ensure_one()
        journal_model = self.env["account.journal"]
        if not self.journal_id:
            code = journal_model.get_next_bank_cash_default_code(
                "bank", self.company_id
            )
            self.journal_id = journal_model.create(
                {
                    "name": _("%(name)s Clearing", name=self.name),
                    "type": "bank",
                    "code": code,
                    "company_id": self.company_id.id,
                }
            )
        if not self.fee_account_id:
            self.fee_account_id = self._paycrm_default_fee_account()

    def _paycrm_default_fee_account(self):
        """The expense account gateway fees go to: the chart's bank fees
        account (the generic chart's *Bank Fees*, or one named after bank or
        gateway fees or charges), else a new *Payment Gateway Fees* account.
        Never just the first expense account: that is *Cash Discount Loss*."""
        self.ensure_one()
        company = self.company_id
        accounts = self.env["account.account"].with_company(company)
        domain = [
            *accounts._check_company_domain(company),
            ("account_type", "in", ("expense", "expense_direct_cost")),
            ("deprecated", "=", False),
        ]
        chart = self.env["account.chart.template"].with_company(company)
        account = chart.ref("expense_finance", raise_if_not_found=False)
        if account and account.filtered_domain(domain):
            return account
        names = ("bank fee", "bank charge", "gateway fee", "payment fee")
        name_domain = [("name", "ilike", name) for name in names]
        account = accounts.search(
            [*domain, *(["|"] * (len(names) - 1)), *name_domain],
            order="code",
            limit=1,
        )
        if account:
            return account
        # sudo: accounts are created by accounting administrators; a gateway
        # needs its fee account whoever saves it first (connector admins).
        accounts_sudo = accounts.sudo()
        last = accounts_sudo.search(domain, order="code desc", limit=1)
        return accounts_sudo.create(
            {
                "name": _("Payment Gateway Fees"),
                "code": accounts_sudo._search_new_account_code(last.code or "6000"),
                "account_type": "expense",
                "company_ids": [fields.Command.set(company.ids)],
            }
        ).sudo(False)

    def _paycrm_config(self):
        """Adapter settings; reads secrets, so it runs as superuser on purpose."""
        self.ensure_one()
        # sudo: sales staff trigger gateway calls (links, customer sync) but must
        # not read the secret fields themselves; the values stay in Python.
        gateway_sudo = self.sudo()
        return GatewayConfig(
            provider=gateway_sudo.provider,
            secret_key=gateway_sudo.secret_key or "",
            webhook_secret=gateway_sudo.webhook_secret or "",
            api_base=gateway_sudo.api_base_url or "",
            timeout=gateway_sudo.timeout,
            max_retries=gateway_sudo.max_network_retries,
            live=gateway_sudo.state == "live",
            extra=gateway_sudo._paycrm_config_extra(),
        )

    def _paycrm_config_extra(self):
        """Provider-specific settings for ``GatewayConfig.extra`` (sudo record):
        the fields the adapter names."""
        fields_of = get_adapter_class(self.provider).config_fields
        return {key: self[name] or "" for key, name in fields_of.items()}

    def _paycrm_adapter(self):
        return get_adapter(self._paycrm_config())

    def _paycrm_can(self, capability):
        """What this gateway's adapter says of ``capability`` (a class
        attribute of ``GatewayAdapter``: ``wallet``, ``pay_label``...)."""
        self.ensure_one()
        return getattr(get_adapter_class(self.provider), capability)

    def _paycrm_provider_label(self):
        """The provider's name as the selection shows it (``Stripe``)."""
        self.ensure_one()
        return dict(self._fields["provider"]._description_selection(self.env))[
            self.provider
        ]

    @api.model
    @tools.ormcache("gateway_id")
    def _paycrm_webhook_settings(self, gateway_id):
        """``WebhookSettings`` of gateway ``gateway_id``, ``None`` if unknown.

        Every webhook needs them and gateways change rarely: cached per
        registry, so an intake reads no gateway row (create, write and unlink
        clear the cache). Callers must not modify the cached ``config``.
        """
        # sudo: the caller is a gateway posting a webhook, authenticated only
        # afterwards by the signature these settings hold; archived gateways
        # keep receiving events.
        gateway = self.sudo().with_context(active_test=False).browse(gateway_id)
        if not gateway.exists():
            return None
        return WebhookSettings(
            gateway.company_id.id, gateway.state, gateway._paycrm_config()
        )

    @api.model
    def _paycrm_for_company(self, company=None):
        """The company's default gateway, or its first enabled one."""
        company = company or self.env.company
        if company.paycrm_gateway_id.state not in (False, "disabled"):
            return company.paycrm_gateway_id
        return self.search(
            [("company_id", "=", company.id), ("state", "!=", "disabled")], limit=1
        )

    def _paycrm_payout_journal(self):
        self.ensure_one()
        if self.payout_journal_id:
            return self.payout_journal_id
        clearing = self.search([("company_id", "=", self.company_id.id)]).journal_id
        return self.env["account.journal"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("type", "=", "bank"),
                ("id", "not in", clearing.ids),
            ],
            order="sequence, id",
            limit=1,
        )

    def _paycrm_count_bad_signature(self):
        """Count a rejected webhook in one statement (no read-modify-write):
        the total, the last time, and the failures of the current hour-long
        window (a new window starts with the first failure after an hour).
        The company's threshold comes back from the same statement; reaching
        it raises one alert for the window. Never raises itself: the webhook
        route must still answer 400."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """
                UPDATE paycrm_gateway g
                   SET bad_signature_count = COALESCE(g.bad_signature_count, 0) + 1,
                       bad_signature_last_at = %(now)s,
                       bad_signature_window_start = CASE
                           WHEN g.bad_signature_window_start IS NULL
                             OR g.bad_signature_window_start <= %(start)s
                           THEN %(now)s ELSE g.bad_signature_window_start END,
                       bad_signature_window_count = CASE
                           WHEN g.bad_signature_window_start IS NULL
                             OR g.bad_signature_window_start <= %(start)s
                           THEN 1 ELSE COALESCE(g.bad_signature_window_count, 0) + 1
                       END
                  FROM res_company c
                 WHERE g.id = %(id)s AND c.id = g.company_id
             RETURNING g.bad_signature_window_count, g.bad_signature_window_start,
                       c.paycrm_alert_signature_failures, g.bad_signature_count
                """,
                now=SQL("(now() at time zone 'UTC')"),
                start=SQL("(now() at time zone 'UTC') - interval '1 hour'"),
                id=self.id,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(
            [
                "bad_signature_count",
                "bad_signature_last_at",
                "bad_signature_window_start",
                "bad_signature_window_count",
            ]
        )
        if row and row[2] and row[0] == row[2]:
            # The window is named by the failures counted before it began.
            self.env["paycrm.alert"]._paycrm_alert_signature_failures(
                self, row[0], row[1], row[3] - row[0]
            )

    def action_paycrm_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "paycrm_connector.paycrm_event_action"
        )
        action["domain"] = [("gateway_id", "=", self.id)]
        return action

    def action_paycrm_tieout(self):
        self.ensure_one()
        wizard = self.env["paycrm.tieout"].create({"gateway_id": self.id})
        wizard._paycrm_compute_lines()
        return {
            "type": "ir.actions.act_window",
            "name": _("Tie-out: %(name)s", name=self.name),
            "res_model": "paycrm.tieout",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }
