from odoo import fields, models


class PaycrmReminderPreviewLine(models.TransientModel):
    _name = "paycrm.reminder.preview.line"
    _description = "Reminder Run Preview Line"
    _order = "skip_reason desc, partner_id"

    preview_id = fields.Many2one(
        "paycrm.reminder.preview", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    invoice_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    stage_id = fields.Many2one("paycrm.reminder.stage", readonly=True)
    channel = fields.Char(readonly=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    currency_id = fields.Many2one(related="preview_id.policy_id.company_id.currency_id")
    skip_reason = fields.Char(string="Skipped Because", readonly=True)
    note = fields.Char(readonly=True)
