from odoo import fields, models


class PaycrmTieoutLine(models.TransientModel):
    _name = "paycrm.tieout.line"
    _description = "Gateway Tie-out Difference"
    _check_company_auto = True

    tieout_id = fields.Many2one("paycrm.tieout", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="tieout_id.company_id")
    currency_id = fields.Many2one("res.currency")
    reference = fields.Char()
    kind = fields.Char()
    gateway_amount = fields.Monetary()
    booked_amount = fields.Monetary()
    event_id = fields.Many2one("paycrm.event", check_company=True)
    note = fields.Char()
