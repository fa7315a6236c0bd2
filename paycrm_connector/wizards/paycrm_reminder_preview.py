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
        """A dry run: the plan a run would make now, nothing claimed or sent.

        One line per invoice, as the reminder log gets one row per invoice:
        the stage it is logged at, the recipient and channel of its message.
        """
        self.ensure_one()
        # The plan runs in the policy's company: only for a user working in it.
        self._paycrm_guard()
        policy = self.policy_id.with_company(self.policy_id.company_id)
        today, weekend, groups = policy._paycrm_plan_today()
        invoices = self.env["account.move"].concat(
            *(item[0] for group in groups for item in group["items"])
        )
        planner = self.env["paycrm.reminder.planner"]
        reminded = planner._paycrm_reminded_invoice_ids(invoices)
        lines = []
        for group in groups:
            channels = group.get("channels") or set()
            channel = "both" if len(channels) == 2 else next(iter(channels), False)
            for invoice, stage, _days in group["items"]:
                lines.append(
                    {
                        "partner_id": group["partner"].id,
                        "recipient_id": group["recipient"].id,
                        "invoice_id": invoice.id,
                        "stage_id": stage.id,
                        "message_stage_id": group["stage"].id,
                        "channel": channel,
                        "amount": invoice.amount_residual_signed,
                        "due_status": planner._paycrm_due_status(invoice, today),
                        "reminded": invoice.id in reminded,
                        "skip_reason": group["reason"] or False,
                        "note": group.get("note") or False,
                    }
                )
            for invoice, stage, reason in group["skipped"]:
                lines.append(
                    {
                        "partner_id": group["partner"].id,
                        "invoice_id": invoice.id,
                        "stage_id": stage.id,
                        "amount": invoice.amount_residual_signed,
                        "due_status": planner._paycrm_due_status(invoice, today),
                        "skip_reason": reason,
                    }
                )
        self.write(
            {
                "date": today,
                "weekend": weekend,
                "line_ids": [(5, 0, 0)] + [(0, 0, vals) for vals in lines],
            }
        )
