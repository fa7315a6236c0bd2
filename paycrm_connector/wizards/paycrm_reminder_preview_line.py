from odoo import fields, models

from .. import const


class PaycrmReminderPreviewLine(models.TransientModel):
    _name = "paycrm.reminder.preview.line"
    _description = "Reminder Run Preview Line"
    _order = "skip_reason desc, partner_id, id"

    preview_id = fields.Many2one(
        "paycrm.reminder.preview", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    recipient_id = fields.Many2one("res.partner", readonly=True)
    invoice_id = fields.Many2one("account.move", readonly=True)
    stage_id = fields.Many2one(
        "paycrm.reminder.stage",
        readonly=True,
        help="The stage the reminder log records for this invoice.",
    )
    message_stage_id = fields.Many2one(
        "paycrm.reminder.stage",
        string="Message",
        readonly=True,
        help="One message per customer lists all its invoices: the customer's "
        "most advanced stage chooses its template and channel.",
    )
    channel = fields.Selection(const.REMINDER_CHANNELS, readonly=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    currency_id = fields.Many2one(related="preview_id.policy_id.company_id.currency_id")
    due_status = fields.Char(readonly=True)
    reminded = fields.Boolean(
        string="Reminded Before",
        readonly=True,
        help="A reminder about this invoice was already sent: the message "
        "speaks of a follow-up.",
    )
    skip_reason = fields.Char(string="Skipped Because", readonly=True)
    note = fields.Char(readonly=True)
