import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const

# {name} placeholders only: no attribute or item access, so an SMS text typed by
# staff can never reach into Python objects.
SMS_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class PaycrmReminderStage(models.Model):
    _name = "paycrm.reminder.stage"
    _description = "Payment Reminder Stage"
    _order = "policy_id, offset_days, sequence, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "paycrm.reminder.policy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="policy_id.company_id", store=True, index=True, precompute=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    offset_days = fields.Integer(
        string="Offset (days)",
        required=True,
        help="Days from the due date: negative before, 0 on the due date, "
        "positive after.",
    )
    channel = fields.Selection(const.REMINDER_CHANNELS, required=True, default="email")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'account.move')]",
        help="Rendered once per customer with all its invoices due this stage.",
    )
    sms_body = fields.Text(
        string="SMS Text",
        translate=True,
        help="Placeholders: {customer} {company} {invoices} {amount} {due_date} "
        "{days_late} {due_status} {links}. {due_status} is the real state of the "
        "most overdue invoice ('5 days late', 'due today', 'due in 3 days').",
    )
    min_amount = fields.Monetary(
        string="Minimum Amount",
        currency_field="currency_id",
        help="Invoices with a lower amount due are not reminded at this stage.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    include_pay_link = fields.Boolean(default=True)
    escalation = fields.Selection(
        const.ESCALATION_TARGETS, required=True, default="none"
    )
    escalation_user_id = fields.Many2one(
        "res.users",
        string="Escalate To",
        domain="[('share', '=', False)]",
    )
    escalation_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity Type",
        default=lambda self: self.env.ref(
            "mail.mail_activity_data_todo", raise_if_not_found=False
        ),
    )
    hold_customer = fields.Boolean(
        string="Put Customer on Hold",
        help="After this stage, no further automatic reminders until staff lift "
        "the hold on the customer.",
    )

    # Odoo turns a violation into a validation error naming this message.
    _sql_constraints = [
        (
            "policy_offset_uniq",
            "UNIQUE(policy_id, offset_days)",
            "Two stages of a policy cannot have the same offset.",
        ),
    ]

    @api.constrains("channel", "mail_template_id", "sms_body", "escalation")
    def _check_content(self):
        for stage in self:
            if stage.channel in ("email", "both") and not stage.mail_template_id:
                raise ValidationError(
                    _(
                        "Stage %(stage)s sends emails: choose an email template.",
                        stage=stage.name,
                    )
                )
            if stage.channel in ("sms", "both") and not stage.sms_body:
                raise ValidationError(
                    _(
                        "Stage %(stage)s sends SMS: write the SMS text.",
                        stage=stage.name,
                    )
                )
            if stage.escalation == "user" and not stage.escalation_user_id:
                raise ValidationError(
                    _(
                        "Stage %(stage)s escalates to a named user: choose the user.",
                        stage=stage.name,
                    )
                )

    def _paycrm_render_sms(self, values, lang=None):
        """Fill the SMS text in ``lang`` with ``values`` (a dict of strings)."""
        self.ensure_one()
        body = self.with_context(lang=lang).sms_body if lang else self.sms_body
        return SMS_PLACEHOLDER.sub(
            lambda m: str(values.get(m.group(1), m.group(0))), body or ""
        )
