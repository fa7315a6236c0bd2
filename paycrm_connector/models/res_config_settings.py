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
    paycrm_event_batch_size = fields.Integer(
        string="Events per Batch",
        config_parameter=const.EVENT_BATCH_SIZE_PARAM,
        default=const.EVENT_BATCH_SIZE,
        help="Webhook events the processor books and commits together.",
    )
