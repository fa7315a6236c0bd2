from odoo import _, fields, models


class PaycrmReminderPolicy(models.Model):
    _name = "paycrm.reminder.policy"
    _description = "Payment Reminder Policy"
    _order = "company_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    stage_ids = fields.One2many(
        "paycrm.reminder.stage", "policy_id", string="Stages", copy=True
    )
    skip_weekends = fields.Boolean(
        default=True,
        help="Send nothing on Saturdays and Sundays (company time zone); Monday's "
        "run catches up.",
    )
    promise_grace_days = fields.Integer(
        string="Promise Grace (days)",
        default=3,
        help="Reminders stay paused until the promised date plus these days.",
    )
    attribution_days = fields.Integer(
        string="Payment Attribution Window (days)",
        default=7,
        help="A payment within these days after a reminder credits its stage.",
    )
    log_count = fields.Integer(compute="_compute_log_count")

    def _compute_log_count(self):
        counts = dict(
            self.env["paycrm.reminder.log"]._read_group(
                [("policy_id", "in", self.ids)], ["policy_id"], ["__count"]
            )
        )
        for policy in self:
            policy.log_count = counts.get(policy, 0)

    def action_paycrm_preview(self):
        self.ensure_one()
        wizard = self.env["paycrm.reminder.preview"].create({"policy_id": self.id})
        wizard._paycrm_fill()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reminder Preview"),
            "res_model": "paycrm.reminder.preview",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_paycrm_run_now(self):
        self.ensure_one()
        stats = self._paycrm_run()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Reminders"),
                "message": _(
                    "%(sent)s customers reminded, %(failed)s failed, "
                    "%(skipped)s skipped.",
                    sent=stats["sent"],
                    failed=stats["failed"],
                    skipped=stats["skipped"],
                ),
                "type": "warning" if stats["failed"] else "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_paycrm_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "paycrm_connector.paycrm_reminder_log_action"
        )
        action["domain"] = [("policy_id", "=", self.id)]
        return action
