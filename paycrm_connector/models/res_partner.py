import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..gateways import CustomerData, GatewayError

_logger = logging.getLogger(__name__)


class ResPartner(models.Model):
    _inherit = "res.partner"

    paycrm_customer_ref_ids = fields.One2many(
        "paycrm.customer.ref",
        "partner_id",
        string="Gateway Customers",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_mobile_e164 = fields.Char(
        string="Mobile (E.164)",
        compute="_compute_paycrm_mobile_e164",
        store=True,
        help="Mobile (or phone) in international E.164 form, used for SMS.",
    )
    paycrm_mobile_valid = fields.Boolean(
        string="Valid Mobile", compute="_compute_paycrm_mobile_e164", store=True
    )
    paycrm_phone_warning = fields.Char(
        string="Phone Warning", compute="_compute_paycrm_mobile_e164", store=True
    )
    paycrm_reminder_channel = fields.Selection(
        const.REMINDER_CHANNELS,
        string="Reminder Channel",
        default="email",
        help="How payment reminders reach this customer.",
    )
    paycrm_reminder_opt_out = fields.Boolean(
        string="No Payment Reminders",
        help="Never send automatic payment reminders to this customer.",
    )

    @api.depends("mobile", "phone", "country_id")
    def _compute_paycrm_mobile_e164(self):
        for partner in self:
            number = partner.mobile or partner.phone
            e164, warning = False, False
            if number:
                try:
                    e164 = partner._phone_format(number=number, raise_exception=True)
                except UserError as exc:
                    warning = _(
                        "%(number)s is not a valid phone number: %(reason)s",
                        number=number,
                        reason=exc.args[0],
                    )
                if e164 and not partner.country_id and not number.startswith("+"):
                    warning = _(
                        "No country on the customer: %(number)s was read with the "
                        "company's country code. Add the country or write the "
                        "number with +<country code>.",
                        number=number,
                    )
            partner.paycrm_mobile_e164 = e164
            partner.paycrm_mobile_valid = bool(e164)
            partner.paycrm_phone_warning = warning

    def _paycrm_customer_data(self):
        self.ensure_one()
        return CustomerData(
            partner_id=self.id,
            name=self.name or "",
            email=self.email or "",
            phone=self.paycrm_mobile_e164 or "",
            street=self.street or "",
            street2=self.street2 or "",
            city=self.city or "",
            zip=self.zip or "",
            state=self.state_id.name or "",
            country_code=self.country_id.code or "",
        )

    def _paycrm_ensure_customer(self, gateway):
        """Create or update this partner on ``gateway``; return the reference."""
        self.ensure_one()
        # sudo: the reference table is technical; users only see it on the form.
        ref_sudo = (
            self.env["paycrm.customer.ref"]
            .sudo()
            .search(
                [("partner_id", "=", self.id), ("gateway_id", "=", gateway.id)],
                limit=1,
            )
        )
        adapter = gateway._paycrm_adapter()
        reference = adapter.upsert_customer(
            self._paycrm_customer_data(),
            reference=ref_sudo.reference,
            idempotency_key=f"paycrm-customer-{self.env.cr.dbname}-{gateway.id}-"
            f"{self.id}",
        )
        values = {"reference": reference, "synced_at": fields.Datetime.now()}
        if ref_sudo:
            ref_sudo.write(values)
        else:
            ref_sudo.create(
                dict(values, partner_id=self.id, gateway_id=gateway.id)
            )
        return reference

    def action_paycrm_sync_gateway(self):
        gateways = self.env["paycrm.gateway"].search(
            [
                ("company_id", "in", self.env.companies.ids),
                ("state", "!=", "disabled"),
            ]
        )
        if not gateways:
            raise UserError(
                _("No enabled payment gateway: configure one under Accounting > "
                  "Configuration > Payment Gateways.")
            )
        for partner in self:
            for gateway in gateways:
                try:
                    partner._paycrm_ensure_customer(gateway)
                except GatewayError as exc:
                    raise UserError(
                        _(
                            "Could not sync %(partner)s to %(gateway)s: %(reason)s",
                            partner=partner.display_name,
                            gateway=gateway.name,
                            reason=str(exc),
                        )
                    ) from exc
            # sudo: staff allowed to sync may lack write access on contacts, which
            # chatter requires; the note still names them as author.
            partner.sudo().message_post(
                body=_("Synced to %(gateways)s.", gateways=", ".join(gateways.mapped("name"))),
                author_id=self.env.user.partner_id.id,
            )
        return True
