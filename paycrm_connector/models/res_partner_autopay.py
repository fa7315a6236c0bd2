"""Saved payment methods and auto-pay on the customer."""

from markupsafe import Markup, escape

from odoo import _, fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    paycrm_payment_method_ids = fields.One2many(
        "paycrm.payment.method",
        "partner_id",
        string="Payment Methods",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_payment_method_count = fields.Integer(
        compute="_compute_paycrm_payment_method_count",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_method_expiring_count = fields.Integer(
        string="Methods Expiring",
        compute="_compute_paycrm_payment_method_count",
        groups="paycrm_connector.group_paycrm_user",
        help="Saved cards expiring within 30 days (or expired).",
    )
    paycrm_autopay = fields.Boolean(
        string="Charge my saved method on the due date",
        groups="paycrm_connector.group_paycrm_user",
        copy=False,
        tracking=True,
    )
    paycrm_autopay_method_id = fields.Many2one(
        "paycrm.payment.method",
        string="Auto-pay Method",
        domain="[('partner_id', '=', commercial_partner_id), ('active', '=', True)]",
        groups="paycrm_connector.group_paycrm_user",
        tracking=True,
        copy=False,
    )

    def _compute_paycrm_payment_method_count(self):
        for partner in self:
            methods = partner.commercial_partner_id.paycrm_payment_method_ids
            partner.paycrm_payment_method_count = len(methods)
            partner.paycrm_method_expiring_count = len(methods.filtered("is_expiring"))

    def action_paycrm_save_method(self):
        """Open a page that saves a payment method for this customer, and the
        mail composer with its link."""
        self.ensure_one()
        user = self.env.user
        if not (
            user.has_group("account.group_account_invoice")
            or user.has_group("paycrm_connector.group_paycrm_manager")
        ):
            raise AccessError(
                _("Only invoicing users and managers can ask for a payment method.")
            )
        partner = self.commercial_partner_id
        gateways = self.env["paycrm.gateway"].search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "disabled")]
        )
        default = self.env["paycrm.gateway"]._paycrm_for_company(self.env.company)
        savers = gateways.filtered(lambda g: g._paycrm_can("saves_methods"))
        gateway = default if default in savers else savers[:1]
        # sudo: the session is a technical record; staff allowed here may not
        # create it (the gateway call itself reads secrets in Python only).
        setup = self.env["paycrm.method.setup"].sudo()._paycrm_create(partner, gateway)
        link = Markup('<a href="%s">%s</a>') % (setup.url, setup.url)
        body = Markup("<p>%s</p><p>%s</p><p>%s</p>") % (
            _("Hello %(name)s,", name=partner.name),
            _(
                "To pay your future invoices from %(company)s automatically, "
                "please save a card or bank account on this secure page:",
                company=self.env.company.name,
            ),
            link,
        )
        partner.message_post(
            body=_(
                "Link to save a payment method opened on %(gateway)s.",
                gateway=gateway.name,
            )
            + Markup("<br/>")
            + escape(setup.url),
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Save Payment Method"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": partner.ids,
                "default_composition_mode": "comment",
                "default_partner_ids": partner.ids,
                "default_subject": _(
                    "%(company)s: save a payment method", company=self.env.company.name
                ),
                "default_body": body,
                "paycrm_setup_url": setup.url,
            },
        }
