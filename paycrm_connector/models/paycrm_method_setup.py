"""A hosted page that only saves a payment method (Stripe Checkout in setup
mode, the demo gateway's setup page), sent to a customer from the contact."""

import dataclasses
import secrets
from datetime import datetime, timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..gateways import GatewayError, SetupRequest, get_adapter

SETUP_STATES = [
    ("open", "Open"),
    ("done", "Method saved"),
    ("expired", "Expired"),
]
# Public pages the gateway sends the customer back to.
SETUP_DONE_PATH = "/paycrm/method/saved"
SETUP_CANCEL_PATH = "/paycrm/method/cancel"
# Metadata key naming the partner a setup session saves a method for.
META_PARTNER_ID = "paycrm_partner_id"
# Metadata key naming the setup session a demo method was saved on.
META_SETUP_SESSION = "paycrm_setup_session"


class PaycrmMethodSetup(models.Model):
    _name = "paycrm.method.setup"
    _description = "Save Payment Method Session"
    _order = "id desc"
    _check_company_auto = True
    _rec_name = "session_ref"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade", index=True
    )
    gateway_id = fields.Many2one(
        "paycrm.gateway", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(
        related="gateway_id.company_id", store=True, index=True, precompute=True
    )
    session_ref = fields.Char(string="Session", readonly=True, copy=False, index=True)
    url = fields.Char(string="Hosted Page", readonly=True, copy=False)
    expires_at = fields.Datetime(readonly=True)
    state = fields.Selection(SETUP_STATES, default="open", required=True, index=True)
    method_id = fields.Many2one(
        "paycrm.payment.method", string="Saved Method", readonly=True
    )

    _sql_constraints = [
        (
            "session_uniq",
            "UNIQUE(gateway_id, session_ref)",
            "A gateway session belongs to one setup.",
        ),
    ]

    @api.model
    def _paycrm_create(self, partner, gateway):
        """Open a setup session for ``partner`` (its commercial partner) at
        ``gateway``; return the record. Gateway failures are UserErrors."""
        partner = partner.commercial_partner_id
        if not gateway or not gateway._paycrm_can("saves_methods"):
            raise UserError(
                _(
                    "No enabled payment gateway of %(company)s can save payment "
                    "methods.",
                    company=self.env.company.name,
                )
            )
        base = partner.get_base_url().rstrip("/")
        customer_ref = ""
        try:
            if gateway._paycrm_can("syncs_customers"):
                customer_ref = self.env["paycrm.link"]._paycrm_customer_ref(
                    partner, gateway
                )
            setup = self.create({"partner_id": partner.id, "gateway_id": gateway.id})
            request = SetupRequest(
                partner_id=partner.id,
                customer_ref=customer_ref,
                success_url=f"{base}{SETUP_DONE_PATH}",
                cancel_url=f"{base}{SETUP_CANCEL_PATH}",
                idempotency_key=f"paycrm-setup-{self.env.cr.dbname}-{gateway.id}-"
                f"{setup.id}-{secrets.token_hex(4)}",
                currency=gateway.company_id.currency_id.name,
                metadata={
                    META_PARTNER_ID: str(partner.id),
                    "paycrm_company_id": str(gateway.company_id.id),
                    "paycrm_db": self.env.cr.dbname,
                },
            )
            config = gateway._paycrm_config()
            # The demo gateway's page is ours: at the configured base URL.
            config = dataclasses.replace(
                config, extra={**config.extra, "base_url": base}
            )
            session = get_adapter(config).create_setup_checkout(request)
        except GatewayError as exc:
            raise UserError(
                _(
                    "%(gateway)s could not open a page to save a payment method: "
                    "%(reason)s",
                    gateway=gateway.name,
                    reason=str(exc),
                )
            ) from exc
        setup.write(
            {
                "session_ref": session.session_id,
                "url": session.url,
                "expires_at": datetime.fromtimestamp(
                    session.expires_at, tz=timezone.utc
                ).replace(tzinfo=None)
                if session.expires_at
                else False,
            }
        )
        return setup

    def _paycrm_refusal(self):
        """Why this session saves nothing now ("" when it can)."""
        self.ensure_one()
        if self.state == "done":
            return "done"
        if self.gateway_id.state == "disabled":
            return "disabled"
        if self.state == "expired" or (
            self.expires_at and self.expires_at <= fields.Datetime.now()
        ):
            return "expired"
        return ""

    @api.model
    def _paycrm_mark_done(self, gateway, session_ref, method):
        setup = self.search(
            [("gateway_id", "=", gateway.id), ("session_ref", "=", session_ref)],
            limit=1,
        )
        if setup and session_ref:
            setup.write({"state": "done", "method_id": method.id})
        return setup

    @api.model
    def _paycrm_demo_save(self, gateway, partner, method_type="card", setup=None):
        """The demo gateway saves a demo card (``pm_demo_<n>``, a Visa ending
        4242) or SEPA account (``pm_demo_debit_<n>``) for ``partner``: its
        ``method.saved`` event enters the intake like any webhook."""
        partner = partner.commercial_partner_id
        adapter = gateway._paycrm_adapter()
        prefix = "pm_demo_debit_" if method_type == "sepa_debit" else "pm_demo_"
        saved = adapter.get_saved_method(f"{prefix}{secrets.token_hex(6)}")
        saved = dataclasses.replace(saved, customer_ref=f"demo_cus_{partner.id}")
        metadata = {
            META_PARTNER_ID: str(partner.id),
            "paycrm_company_id": str(gateway.company_id.id),
            "paycrm_db": self.env.cr.dbname,
        }
        if setup:
            metadata[META_SETUP_SESSION] = setup.session_ref
            setup.state = "done"
        payload, headers = adapter.method_webhook(saved, metadata=metadata)
        self.env["paycrm.event"]._paycrm_intake(gateway, payload, headers)
        return saved
