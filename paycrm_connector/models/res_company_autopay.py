"""The auto-pay settings of a company: its retry schedule after a decline
(shown in Settings through res_config_settings.py)."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from .paycrm_autopay import parse_retry_days


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    paycrm_autopay_retry_days = fields.Char(
        string="Auto-pay Retry Schedule",
        default=const.AUTOPAY_RETRY_DAYS,
        help="Days after each declined auto-pay charge to try again, separated by "
        "commas (1,3,7: a day after the first decline, three days after the "
        "second, a week after the third); after the last, payment reminders "
        "chase the invoice. Empty: no retry.",
    )

    @api.constrains("paycrm_autopay_retry_days")
    def _check_paycrm_autopay_retry_days(self):
        for company in self:
            try:
                parse_retry_days(company.paycrm_autopay_retry_days)
            except ValueError as exc:
                raise ValidationError(
                    _(
                        "The auto-pay retry schedule must be whole days (1 to 365), "
                        "increasing and separated by commas, e.g. 1,3,7; "
                        "“%(part)s” is not.",
                        part=exc.args[0],
                    )
                ) from exc
