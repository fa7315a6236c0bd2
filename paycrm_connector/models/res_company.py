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

    # Payment alerts: thresholds per company, with shipped defaults.
    paycrm_alert_user_id = fields.Many2one(
        "res.users",
        string="Alert Responsible",
        help="Gets an activity for each alert on a customer without salesperson.",
    )
    paycrm_alert_email_admins = fields.Boolean(
        string="Notify Administrators of Alerts",
        help="Post each alert to the connector administrators (by email or in "
        "Odoo, as each prefers).",
    )
    paycrm_alert_large_factor = fields.Float(
        string="Large Payment Factor",
        default=3.0,
        help="Alert when a payment exceeds this many times the customer's median "
        "payment of the last 12 months.",
    )
    paycrm_alert_large_floor = fields.Monetary(
        string="Large Payment Floor",
        currency_field="currency_id",
        default=1000.0,
        help="Payments up to this amount never raise a large-payment alert.",
    )
    paycrm_alert_failed_count = fields.Integer(string="Failed Attempts", default=3)
    paycrm_alert_failed_hours = fields.Integer(
        string="Failed Attempts Window (hours)", default=24
    )
    paycrm_alert_card_country = fields.Boolean(
        string="Alert on Foreign Cards",
        default=True,
        help="Alert when a gateway payment is made with a card issued in another "
        "country than the customer's (customers without a country are skipped).",
    )
    paycrm_alert_card_country_days = fields.Integer(
        string="Foreign Card Window (days)",
        default=30,
        help="One alert per customer and card country within this many days.",
    )
    paycrm_alert_refund_share = fields.Float(
        string="Refund Share (%)",
        default=20.0,
        help="Alert when a month's refunds exceed this share of its payments "
        "(per currency).",
    )
    paycrm_alert_webhook_silent_hours = fields.Integer(
        string="Silent Webhooks (hours)",
        default=12,
        help="Alert when a gateway delivered no webhook for this many hours while "
        "the catch-up sync found events it created in that time.",
    )
    paycrm_alert_signature_failures = fields.Integer(
        string="Signature Failures per Hour",
        default=10,
        help="Alert when this many webhook posts to one gateway are rejected for "
        "a bad signature within an hour (a rotated signing secret).",
    )
