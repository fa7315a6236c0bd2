from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

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
    paycrm_alert_webhook_silent_hours = fields.Integer(
        related="company_id.paycrm_alert_webhook_silent_hours", readonly=False
    )
    paycrm_alert_signature_failures = fields.Integer(
        related="company_id.paycrm_alert_signature_failures", readonly=False
    )
    paycrm_event_batch_size = fields.Integer(
        string="Events per Batch",
        config_parameter=const.EVENT_BATCH_SIZE_PARAM,
        default=const.EVENT_BATCH_SIZE,
        help="Webhook events the processor books and commits together.",
    )

    # The sync cron's own interval: the setting and the cron never disagree.
    paycrm_sync_interval_hours = fields.Integer(
        string="Catch-up Sync Every (h)",
        compute="_compute_paycrm_sync_interval_hours",
        inverse="_inverse_paycrm_sync_interval_hours",
    )

    def _paycrm_sync_cron(self):
        return self.env.ref(
            "paycrm_connector.ir_cron_paycrm_sync_events", raise_if_not_found=False
        )

    @api.depends("company_id")
    def _compute_paycrm_sync_interval_hours(self):
        cron = self._paycrm_sync_cron()
        hours = 1
        if cron:
            per_unit = {"minutes": 1 / 60, "hours": 1, "days": 24, "weeks": 168}
            hours = round(
                cron.sudo().interval_number * per_unit.get(cron.sudo().interval_type, 1)
            )
        for settings in self:
            settings.paycrm_sync_interval_hours = max(hours, 1)

    def _inverse_paycrm_sync_interval_hours(self):
        cron = self._paycrm_sync_cron()
        for settings in self:
            if settings.paycrm_sync_interval_hours < 1:
                raise ValidationError(
                    _("The catch-up sync interval must be at least one hour.")
                )
            if cron:
                # sudo: crons are technical records a billing admin cannot edit.
                cron.sudo().write(
                    {
                        "interval_number": settings.paycrm_sync_interval_hours,
                        "interval_type": "hours",
                    }
                )

    # Auto-pay (res_company_autopay.py).
    paycrm_autopay_retry_days = fields.Char(
        related="company_id.paycrm_autopay_retry_days", readonly=False
    )
