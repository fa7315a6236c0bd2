from odoo import fields, models


class PaycrmReminderPreview(models.TransientModel):
    _name = "paycrm.reminder.preview"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Reminder Run Preview"
    _paycrm_guarded_fields = ("policy_id",)

    policy_id = fields.Many2one("paycrm.reminder.policy", required=True)
    date = fields.Date(readonly=True)
    weekend = fields.Boolean(readonly=True)
    line_ids = fields.One2many("paycrm.reminder.preview.line", "preview_id")

    def _paycrm_fill(self):
        """A dry run: the same plan as a real run, nothing claimed or sent."""
        self.ensure_one()
        # The plan runs in the policy's company: only for a user working in it.
        self._paycrm_guard()
        policy = self.policy_id.with_company(self.policy_id.company_id)
        today = policy._paycrm_today()
        lines = []
        for group in policy._paycrm_plan(today):
            if group["items"]:
                lines.append(
                    {
                        "partner_id": group["partner"].id,
                        "invoice_ids": [(6, 0, [i[0].id for i in group["items"]])],
                        "stage_id": group["stage"].id,
                        "channel": ", ".join(sorted(group.get("channels", ()))),
                        "amount": sum(
                            i[0].amount_residual_signed for i in group["items"]
                        ),
                        "skip_reason": group["reason"] or False,
                        "note": group.get("note") or False,
                    }
                )
            for invoice, stage, reason in group["skipped"]:
                lines.append(
                    {
                        "partner_id": group["partner"].id,
                        "invoice_ids": [(6, 0, invoice.ids)],
                        "stage_id": stage.id,
                        "amount": invoice.amount_residual_signed,
                        "skip_reason": reason,
                    }
                )
        self.write(
            {
                "date": today,
                "weekend": policy.skip_weekends and today.weekday() >= 5,
                "line_ids": [(5, 0, 0)] + [(0, 0, vals) for vals in lines],
            }
        )
