from datetime import timedelta

from odoo import api, fields, models

from .. import const

# Worst last: a message counts as bounced or failed as soon as one of its
# notifications is.
DELIVERY_SEVERITY = ["sent", "fallback", "queued", "failed", "bounced"]


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
        const.REMINDER_RESULTS,
        required=True,
        default="pending",
        index=True,
        help="What became of the message: queued until the mail or SMS leaves, "
        "then sent, failed or bounced, as Odoo's delivery status of the "
        "message says.",
    )
    note = fields.Char(help="Why a fallback channel was used, or what was retried.")
    error = fields.Text(readonly=True)
    # Indexed: every notification status change looks its log up by message.
    mail_message_id = fields.Many2one(
        "mail.message", ondelete="set null", index="btree_not_null"
    )
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

    def _paycrm_last_stage(self):
        """The most advanced stage among these logs that went out (queued
        counts: the stage was sent, whatever its delivery)."""
        sent = self.filtered(
            lambda log: log.result in ("queued", *const.REMINDER_DELIVERED)
        )
        return sent.stage_id.sorted("offset_days")[-1:]

    def _paycrm_touch_profiles(self):
        # sudo: the invoice's customer only, to queue its profile recompute.
        self.env["paycrm.profile"]._paycrm_profile_touch(
            self.sudo().invoice_id.commercial_partner_id.ids
        )

    @api.model
    def _paycrm_follow_delivery(self, messages):
        """Update the logs of these messages from their notifications.

        Called on every notification status change (the mail queue sending or
        failing, the SMS provider's report, a bounce coming back, a resend by
        hand), so the log never says *Sent* for a message that did not leave.
        A log being claimed again (pending) keeps its new run's outcome.
        """
        if not messages:
            return
        # sudo: the mail queue, the SMS report or the bounce runs as whoever
        # triggers it; the log is derived from the mail machinery's state.
        logs = self.sudo().search(
            [
                ("mail_message_id", "in", messages.ids),
                ("result", "!=", "pending"),
            ]
        )
        failure_types = dict(
            self.env["mail.notification"]
            ._fields["failure_type"]
            ._description_selection(self.env)
        )
        updates = {}
        for log in logs:
            notifications = log.mail_message_id.notification_ids.filtered(
                lambda n: n.notification_type in ("email", "sms")
            )
            if not notifications:
                continue
            # One notification per reminder message; the worst one wins.
            notification = max(
                notifications,
                key=lambda n: DELIVERY_SEVERITY.index(
                    const.NOTIFICATION_RESULTS.get(n.notification_status, "queued")
                ),
            )
            result = const.NOTIFICATION_RESULTS.get(
                notification.notification_status, "queued"
            )
            if result == "sent" and log.note:
                result = "fallback"
            error = log.error
            if result in ("failed", "bounced"):
                error = notification.failure_reason or failure_types.get(
                    notification.failure_type, notification.failure_type or False
                )
            elif result in const.REMINDER_DELIVERED:
                # Clears what a transient failure wrote while sending.
                error = False
            if (result, error) != (log.result, log.error):
                updates.setdefault((result, error), []).append(log.id)
        for (result, error), ids in updates.items():
            self.sudo().browse(ids).write({"result": result, "error": error})

    @api.model
    def _paycrm_credit_payments(self, invoices=None):
        """Credit the last reminder before each payment inside the window.

        Called at the start of every run (so it needs no hook) and callable from
        the payment booking with the freshly paid ``invoices``. Idempotent.
        """
        domain = [
            ("paid_date", "=", False),
            ("result", "in", const.REMINDER_DELIVERED),
            ("invoice_id.payment_state", "in", ("paid", "in_payment")),
        ]
        if invoices is not None:
            domain.append(("invoice_id", "in", invoices.ids))
        logs = self.search(domain, order="invoice_id, sent_at desc")
        if not logs:
            return self
        paid_dates = self._paycrm_paid_dates(logs.invoice_id)
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

    @api.model
    def _paycrm_paid_dates(self, invoices):
        """{invoice id: date of its last reconciliation} for paid ``invoices``."""
        partials = invoices.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).matched_credit_ids
        dates = {}
        for partial in partials:
            move_id = partial.debit_move_id.move_id.id
            if partial.max_date and partial.max_date > dates.get(
                move_id, partial.max_date.min
            ):
                dates[move_id] = partial.max_date
        return dates
