"""A customer's payment method saved at a gateway (a card, a debit mandate).

Only what the gateway tells about it is kept (brand, last 4 digits, expiry,
mandate): never a card or account number. The gateway's own id
(``method_ref``) is what a later charge names.
"""

import calendar
import logging
from datetime import date, datetime, timedelta, timezone

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..gateways import GatewayError

_logger = logging.getLogger(__name__)

# A method whose card expires within this many days is "expiring".
EXPIRING_DAYS = 30


class PaycrmPaymentMethod(models.Model):
    _name = "paycrm.payment.method"
    _description = "Saved Payment Method"
    _order = "partner_id, active desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        related="gateway_id.company_id", store=True, index=True, precompute=True
    )
    gateway_id = fields.Many2one(
        "paycrm.gateway",
        required=True,
        ondelete="restrict",
        check_company=True,
        readonly=True,
    )
    method_ref = fields.Char(
        string="Gateway Method",
        required=True,
        readonly=True,
        copy=False,
        help="The gateway's id of the method (pm_...): what a charge names.",
    )
    customer_ref = fields.Char(string="Gateway Customer", readonly=True)
    method_type = fields.Selection(
        const.METHOD_TYPES, string="Type", required=True, default="card", readonly=True
    )
    wallet = fields.Char(readonly=True, help="apple_pay, google_pay...")
    brand = fields.Char(readonly=True)
    last4 = fields.Char(string="Last 4", size=4, readonly=True)
    exp_month = fields.Integer(string="Expiry Month", readonly=True)
    exp_year = fields.Integer(string="Expiry Year", readonly=True)
    expiry_date = fields.Date(
        compute="_compute_expiry_date",
        store=True,
        help="Last day the card is valid.",
    )
    mandate_ref = fields.Char(string="Mandate", readonly=True)
    mandate_date = fields.Datetime(readonly=True)
    consent_text = fields.Text(
        string="Consent",
        readonly=True,
        help="The wording the customer accepted when saving the method.",
    )
    active = fields.Boolean(default=True)
    is_expiring = fields.Boolean(
        string="Expiring",
        compute="_compute_is_expiring",
        search="_search_is_expiring",
        help="The card expires within 30 days (or has expired).",
    )

    _sql_constraints = [
        (
            "method_ref_uniq",
            "UNIQUE(gateway_id, method_ref)",
            "A gateway's payment method is saved once.",
        ),
    ]

    @api.depends("exp_month", "exp_year")
    def _compute_expiry_date(self):
        for method in self:
            month, year = method.exp_month, method.exp_year
            if 1 <= month <= 12 and 1900 < year < 10000:
                last = calendar.monthrange(year, month)[1]
                method.expiry_date = date(year, month, last)
            else:
                method.expiry_date = False

    @api.depends("expiry_date")
    def _compute_is_expiring(self):
        limit = fields.Date.context_today(self) + timedelta(days=EXPIRING_DAYS)
        for method in self:
            method.is_expiring = bool(
                method.expiry_date and method.expiry_date <= limit
            )

    def _search_is_expiring(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(_("Unsupported search on Expiring."))
        limit = fields.Date.context_today(self) + timedelta(days=EXPIRING_DAYS)
        domain = [("expiry_date", "!=", False), ("expiry_date", "<=", limit)]
        if (operator == "=") != bool(value):
            return ["!", *domain]
        return domain

    @api.depends("method_type", "brand", "last4", "exp_month", "exp_year", "wallet")
    def _compute_display_name(self):
        types = dict(self._fields["method_type"]._description_selection(self.env))
        for method in self:
            label = (method.brand or "").replace("_", " ").title() or types.get(
                method.method_type, ""
            )
            if method.method_type in const.DELAYED_METHOD_TYPES:
                label = types.get(method.method_type, label)
            name = f"{label} •••• {method.last4}" if method.last4 else label
            if method.exp_month and method.exp_year:
                name += f" ({method.exp_month:02d}/{method.exp_year})"
            method.display_name = name

    # ------------------------------------------------------------ gateway

    @api.model
    def _paycrm_consent_text(self, company, method_type="card"):
        """The consent (mandate) wording shown to the customer before saving
        a method, and stored with it: the same sentence both times."""
        if method_type in const.DELAYED_METHOD_TYPES:
            return _(
                "By saving your bank account you authorise %(company)s and its "
                "payment provider to send instructions to your bank to debit "
                "your account for future invoices, in accordance with those "
                "instructions. You are entitled to a refund from your bank under "
                "the terms of your agreement with it.",
                company=company.name,
            )
        return _(
            "I authorise %(company)s to save this card or account and to charge "
            "it for my future invoices on their due date, until I remove it.",
            company=company.name,
        )

    @api.model
    def _paycrm_upsert_from_gateway(self, gateway, partner, saved, consent_text=""):
        """Create or update the method ``saved`` (a ``SavedMethod``) of
        ``partner`` (its commercial partner) at ``gateway``; return it.

        A method saved again after its removal is active again. Concurrent
        calls for the same method meet on the UNIQUE key.
        """
        partner = partner.commercial_partner_id
        vals = {
            "customer_ref": saved.customer_ref or False,
            "method_type": saved.method_type
            if saved.method_type in dict(const.METHOD_TYPES)
            else "card",
            "wallet": saved.wallet or False,
            "brand": saved.brand or False,
            "last4": (saved.last4 or "")[-4:] or False,
            "exp_month": saved.exp_month or 0,
            "exp_year": saved.exp_year or 0,
            "mandate_ref": saved.mandate_ref or False,
            "mandate_date": datetime.fromtimestamp(
                saved.mandate_at, tz=timezone.utc
            ).replace(tzinfo=None)
            if saved.mandate_at
            else False,
            "active": True,
        }
        if saved.wallet and saved.method_type == "card":
            vals["method_type"] = "wallet"
        domain = [
            ("gateway_id", "=", gateway.id),
            ("method_ref", "=", saved.method_ref),
        ]
        method = self.with_context(active_test=False).search(domain, limit=1)
        if method:
            if consent_text and not method.consent_text:
                vals["consent_text"] = consent_text
            method.write(vals)
            return method
        vals.update(
            partner_id=partner.id,
            gateway_id=gateway.id,
            method_ref=saved.method_ref,
            consent_text=consent_text or False,
        )
        try:
            with self.env.cr.savepoint():
                return self.create(vals)
        except psycopg2.IntegrityError:
            # Saved at the same moment by another event: theirs wins.
            return self.with_context(active_test=False).search(domain, limit=1)

    def _paycrm_detach(self):
        """Remove the methods at their gateway, then archive them here."""
        for method in self:
            if not method.active:
                continue
            try:
                method.gateway_id._paycrm_adapter().detach_method(method.method_ref)
            except GatewayError as exc:
                raise UserError(
                    _(
                        "%(gateway)s could not remove %(method)s: %(reason)s",
                        gateway=method.gateway_id.name,
                        method=method.display_name,
                        reason=str(exc),
                    )
                ) from exc
            method.write({"active": False})
            _logger.info(
                "paycrm payment method %s detached at gateway %s",
                method.id,
                method.gateway_id.id,
            )
        return True

    def action_archive(self):
        # Archiving a saved method removes it at the gateway: a method kept
        # there could still be charged.
        return self._paycrm_detach()

    # ------------------------------------------------------------- health

    @api.model
    def _cron_paycrm_check_expiring(self):
        """Daily: an alert and an activity once per active method whose card
        expires within 30 days."""
        methods = self.search([("is_expiring", "=", True)])
        for method in methods:
            method._paycrm_alert_expiring()
        return True

    def _paycrm_alert_expiring(self):
        self.ensure_one()
        partner = self.partner_id
        expiry = self.expiry_date
        message = _(
            "%(method)s of %(customer)s expires on %(date)s: ask the customer "
            "to save a new payment method.",
            method=self.display_name,
            customer=partner.display_name,
            date=fields.Date.to_string(expiry),
        )
        # sudo: raised by the system cron for any company's methods.
        alert = (
            self.env["paycrm.alert"]
            .sudo()
            ._paycrm_raise(
                {
                    "company_id": self.company_id.id,
                    "kind": "method_expiring",
                    "partner_id": partner.id,
                    "message": message,
                    "window_key": f"method_expiring:{self.id}",
                }
            )
        )
        if alert:
            user = partner.user_id or self.company_id.paycrm_alert_user_id
            partner.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Payment method expiring"),
                note=message,
                user_id=(user or self.env.user).id,
            )
        return alert
