from odoo import _, api, fields, models

from .. import const

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

    paycrm_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Payment Gateway",
        compute="_compute_paycrm_gateway_id",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('company_id', '=', company_id), ('state', '!=', 'disabled')]",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_link_url = fields.Char(
        string="Payment Link",
        compute="_compute_paycrm_link_url",
        groups="paycrm_connector.group_paycrm_user",
        help="Stable pay URL: it never expires and always asks for today's amount.",
    )
    paycrm_link_state = fields.Selection(
        const.LINK_STATES,
        string="Link State",
        compute="_compute_paycrm_link_state",
        store=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_gateway_ref = fields.Char(
        string="Gateway Reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_amount_received = fields.Monetary(
        string="Received via Gateway",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_fee_amount = fields.Monetary(
        string="Gateway Fees",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )

    paycrm_disputed = fields.Boolean(
        string="Disputed",
        readonly=True,
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
        help="A chargeback is open at the gateway: its amount left the clearing "
        "account until the dispute is won.",
    )
    paycrm_event_ids = fields.One2many(
        "paycrm.event",
        "invoice_id",
        string="Gateway Events",
        groups="paycrm_connector.group_paycrm_user",
    )

    def action_paycrm_refund(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Refund through the Gateway"),
            "res_model": "paycrm.refund",
            "view_mode": "form",
            "target": "new",
            "context": {"default_invoice_id": self.id},
        }

    @api.depends("company_id", "move_type")
    def _compute_paycrm_gateway_id(self):
        gateway_model = self.env["paycrm.gateway"]
        for move in self:
            if move.move_type not in CUSTOMER_MOVE_TYPES:
                move.paycrm_gateway_id = False
            elif not move.paycrm_gateway_id:
                move.paycrm_gateway_id = gateway_model._paycrm_for_company(
                    move.company_id
                )

    @api.depends("move_type", "state", "access_token")
    def _compute_paycrm_link_url(self):
        for move in self:
            if (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.access_token
            ):
                move.paycrm_link_url = (
                    f"{move.get_base_url()}/paycrm/pay/{move.id}/{move.access_token}"
                )
            else:
                move.paycrm_link_url = False

    @api.depends("move_type", "state", "payment_state")
    def _compute_paycrm_link_state(self):
        for move in self:
            if move.move_type != "out_invoice" or move.state == "draft":
                move.paycrm_link_state = "none"
            elif move.state == "cancel" or move.payment_state == "reversed":
                move.paycrm_link_state = "cancelled"
            elif move.payment_state in ("paid", "in_payment"):
                move.paycrm_link_state = "paid"
            else:
                move.paycrm_link_state = "active"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # Every posted customer invoice carries its stable pay link from now on.
        for move in posted.filtered(lambda m: m.move_type == "out_invoice"):
            move._portal_ensure_token()
        return posted
