from datetime import timedelta

from odoo import api, fields, models

from .. import const


class PaycrmReminderLog(models.Model):
    _name = "paycrm.reminder.log"
    _description = "Payment Reminder Log"
    _order = "sent_at desc, id desc"
    _check_company_auto = True
    _rec_name = "invoice_id"

    company_id = fields.Many2one("res.company", required=True, index=True)
    invoice_id = fields.Many2one(
        "account.move", required=True, ondelete="cascade", index=True
    )
    stage_id = fields.Many2one(
        "paycrm.reminder.stage", required=True, ondelete="cascade", index=True
    )
    policy_id = fields.Many2one(related="stage_id.policy_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    channel = fields.Selection(const.REMINDER_CHANNELS)
    sent_at = fields.Datetime(index=True)
    result = fields.Selection(
        const.REMINDER_RESULTS, required=True, default="pending", index=True
    )
    note = fields.Char(help="Why a fallback channel was used, or what was retried.")
    error = fields.Text(readonly=True)
    mail_message_id = fields.Many2one("mail.message", ondelete="set null")
    mail_id = fields.Many2one("mail.mail", string="Email", ondelete="set null")
    sms_id = fields.Many2one("sms.sms", string="SMS", ondelete="set null")
    sms_state = fields.Selection(related="sms_id.state", string="SMS State")
    sms_retries = fields.Integer(string="SMS Retries", readonly=True)
    paid_within_window = fields.Boolean(
        readonly=True,
        help="The invoice was paid within the policy's attribution window after "
        "this reminder: the stage gets the credit.",
    )
    paid_date = fields.Date(readonly=True)

    _sql_constraints = [
        # The guarantee that each (invoice, stage) is sent once, ever: the run
        # inserts this row before queuing anything (see _paycrm_claim_logs).
        (
            "invoice_stage_uniq",
            "UNIQUE(invoice_id, stage_id)",
            "This invoice already got this reminder stage.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        logs = super().create(vals_list)
        logs._paycrm_touch_profiles()
        return logs

    def write(self, vals):
        res = super().write(vals)
        if {"result", "paid_within_window", "sent_at"} & vals.keys():
            self._paycrm_touch_profiles()
        return res

    def _paycrm_touch_profiles(self):
        # sudo: the invoice's customer only, to queue its profile recompute.
        self.env["paycrm.profile"]._paycrm_profile_touch(
            self.sudo().invoice_id.commercial_partner_id.ids
        )

    @api.model
    def _paycrm_credit_payments(self, invoices=None):
        """Credit the last reminder before each payment inside the window.

        Called at the start of every run (so it needs no hook) and callable from
        the payment booking with the freshly paid ``invoices``. Idempotent.
        """
        domain = [
            ("paid_date", "=", False),
            ("result", "in", ("sent", "fallback")),
            ("invoice_id.payment_state", "in", ("paid", "in_payment")),
        ]
        if invoices is not None:
            domain.append(("invoice_id", "in", invoices.ids))
        logs = self.search(domain, order="invoice_id, sent_at desc")
        if not logs:
            return self
        paid_dates = logs.invoice_id._paycrm_paid_dates()
        credited = self.browse()
        for invoice, inv_logs in logs.grouped("invoice_id").items():
            paid = paid_dates.get(invoice.id)
            if not paid:
                continue
            # paid_date on every log of the invoice marks it as settled, so
            # later runs neither look at it again nor credit a second stage.
            inv_logs.write({"paid_date": paid})
            window = timedelta(days=inv_logs[0].policy_id.attribution_days)
            for log in inv_logs:  # newest first
                sent = log.sent_at.date()
                if sent <= paid <= sent + window:
                    log.paid_within_window = True
                    credited |= log
                    break
        return credited
