"""How long a gateway's unverified events are asked about, and how many wait."""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import format_datetime

from .. import const

# Events the gateway's verification API has not vouched for yet.
WAITING_DOMAIN = [("state", "=", "received"), ("verified", "=", False)]


class PaycrmGateway(models.Model):
    # Split from paycrm_gateway.py only to keep each file under ~400 lines; the
    # verification window and the gateway-health line live here.
    _inherit = "paycrm.gateway"  # pylint: disable=consider-merging-classes-inherited

    verify_window_hours = fields.Integer(
        string="Verification Window (h)",
        default=const.VERIFY_WINDOW_HOURS,
        help="Events the gateway's verification API could not vouch for when "
        "they arrived (API down or failing) are asked about again, with "
        "back-off, for this long after they arrived, and booked as soon as it "
        "answers; only then, or when the gateway says it did not send them, "
        "do they end failed. Match how long the gateway keeps retrying a "
        "webhook: PayPal retries for 3 days (72 h).",
    )
    unverified_count = fields.Integer(
        string="Awaiting Verification",
        compute="_compute_unverified",
        help="Events stored while the gateway's verification API did not answer, "
        "still waiting for it.",
    )
    unverified_since = fields.Datetime(
        string="Awaiting Verification Since",
        compute="_compute_unverified",
        help="When the oldest event still waiting for verification arrived.",
    )
    verify_health = fields.Char(string="Verification", compute="_compute_unverified")

    @api.depends("verify_window_hours")
    def _compute_unverified(self):
        groups = self.env["paycrm.event"]._read_group(
            [("gateway_id", "in", self.ids), *WAITING_DOMAIN],
            ["gateway_id"],
            ["__count", "create_date:min"],
        )
        waiting = {gateway: (count, since) for gateway, count, since in groups}
        for gateway in self:
            count, since = waiting.get(gateway, (0, False))
            gateway.unverified_count = count
            gateway.unverified_since = since
            if not count:
                gateway.verify_health = False
                continue
            gateway.verify_health = _(
                "%(count)s event(s) wait for the gateway to verify them, the oldest "
                "since %(since)s. They are asked again with back-off and booked "
                "as soon as it answers; those still unverified after %(until)s "
                "end failed.",
                count=count,
                since=format_datetime(self.env, since),
                until=format_datetime(
                    self.env, since + timedelta(hours=gateway.verify_window_hours)
                ),
            )

    @api.constrains("verify_window_hours")
    def _check_verify_window_hours(self):
        if any(gateway.verify_window_hours < 1 for gateway in self):
            raise ValidationError(
                _("The verification window must be at least one hour.")
            )

    def action_paycrm_view_unverified(self):
        action = self.action_paycrm_view_events()
        action["domain"] = [("gateway_id", "=", self.id), *WAITING_DOMAIN]
        return action
