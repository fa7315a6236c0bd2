from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    paycrm_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Default Payment Gateway",
        domain="[('company_id', '=', id), ('state', '!=', 'disabled')]",
        help="Gateway used for payment links when an invoice names none.",
    )
    paycrm_send_link_on_post = fields.Boolean(
        string="Send Payment Link on Post",
        help="Email the payment link to the customer when an invoice is posted.",
    )
    paycrm_reminder_policy_id = fields.Many2one(
        "paycrm.reminder.policy",
        string="Default Reminder Policy",
        domain="[('company_id', '=', id)]",
        help="Reminder policy for customers that name none.",
    )
