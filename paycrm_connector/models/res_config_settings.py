from odoo import fields, models

from .. import const


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    paycrm_gateway_id = fields.Many2one(
        related="company_id.paycrm_gateway_id", readonly=False
    )
    paycrm_send_link_on_post = fields.Boolean(
        related="company_id.paycrm_send_link_on_post", readonly=False
    )
    paycrm_reminder_policy_id = fields.Many2one(
        related="company_id.paycrm_reminder_policy_id", readonly=False
    )

    # Payment profiles: database-wide, like the profiles they tune.
    paycrm_profile_min_history = fields.Integer(
        string="Minimum Paid Invoices",
        config_parameter="paycrm_connector.profile_min_history",
        default=3,
    )
    paycrm_risk_b_days_late = fields.Integer(
        config_parameter="paycrm_connector.risk_b_days_late", default=3
    )
    paycrm_risk_c_days_late = fields.Integer(
        config_parameter="paycrm_connector.risk_c_days_late", default=15
    )
    paycrm_risk_d_days_late = fields.Integer(
        config_parameter="paycrm_connector.risk_d_days_late", default=45
    )
    paycrm_risk_b_on_time = fields.Integer(
        config_parameter="paycrm_connector.risk_b_on_time", default=90
    )
    paycrm_risk_c_on_time = fields.Integer(
        config_parameter="paycrm_connector.risk_c_on_time", default=60
    )
    paycrm_risk_c_overdue_days = fields.Integer(
        config_parameter="paycrm_connector.risk_c_overdue_days", default=30
    )
    paycrm_risk_d_overdue_days = fields.Integer(
        config_parameter="paycrm_connector.risk_d_overdue_days", default=90
    )
    paycrm_alert_user_id = fields.Many2one(
        related="company_id.paycrm_alert_user_id", readonly=False
    )
    paycrm_alert_email_admins = fields.Boolean(
        related="company_id.paycrm_alert_email_admins", readonly=False
    )
    paycrm_alert_large_factor = fields.Float(
        related="company_id.paycrm_alert_large_factor", readonly=False
    )
    paycrm_alert_large_floor = fields.Monetary(
        related="company_id.paycrm_alert_large_floor", readonly=False
    )
    paycrm_alert_failed_count = fields.Integer(
        related="company_id.paycrm_alert_failed_count", readonly=False
    )
    paycrm_alert_failed_hours = fields.Integer(
        related="company_id.paycrm_alert_failed_hours", readonly=False
    )
    paycrm_alert_card_country = fields.Boolean(
        related="company_id.paycrm_alert_card_country", readonly=False
    )
    paycrm_alert_card_country_days = fields.Integer(
        related="company_id.paycrm_alert_card_country_days", readonly=False
    )
    paycrm_alert_refund_share = fields.Float(
        related="company_id.paycrm_alert_refund_share", readonly=False
    )
    paycrm_event_batch_size = fields.Integer(
        string="Events per Batch",
        config_parameter=const.EVENT_BATCH_SIZE_PARAM,
        default=const.EVENT_BATCH_SIZE,
        help="Webhook events the processor books and commits together.",
    )
