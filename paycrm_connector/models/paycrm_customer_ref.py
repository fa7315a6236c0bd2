from odoo import fields, models


class PaycrmCustomerRef(models.Model):
    _name = "paycrm.customer.ref"
    _description = "Gateway Customer Reference"
    _order = "gateway_id, id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    gateway_id = fields.Many2one(
        "paycrm.gateway", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(
        related="gateway_id.company_id", store=True, index=True, precompute=True
    )
    provider = fields.Selection(related="gateway_id.provider")
    reference = fields.Char(required=True, copy=False, readonly=True)
    synced_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "partner_gateway_uniq",
            "UNIQUE(partner_id, gateway_id)",
            "A customer has one reference per gateway.",
        ),
    ]
