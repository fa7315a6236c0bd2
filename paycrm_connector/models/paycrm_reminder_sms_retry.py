"""The retry queue of reminder SMS: an SMS the provider refused is put back in
Odoo's SMS queue by the next reminder run, a few times.

The reminder log row of the message is the queue's row: its *SMS Retries*
count the tries, its error says the last failure. Claim and bookkeeping are
the shared queue's (paycrm_queue_mixin.py).
"""

from odoo import _, api, models

SMS_MAX_RETRIES = 3


class PaycrmReminderLog(models.Model):
    _name = "paycrm.reminder.log"
    # The log record and its delivery status: paycrm_reminder_log.py.
    _inherit = [  # pylint: disable=consider-merging-classes-inherited
        "paycrm.reminder.log",
        "paycrm.queue.mixin",
    ]

    # Worked by the reminder run itself (it retries before sending).
    _paycrm_queue_cron = "paycrm_connector.ir_cron_paycrm_send_reminders"
    _paycrm_queue_attempts_field = "sms_retries"
    _paycrm_queue_error_field = "error"
    # Tried again at the next run, not after a back-off of its own.
    _paycrm_queue_next_try_field = None

    @api.model
    def _paycrm_queue_ready_domain(self):
        # Past its last retry a refused SMS stays refused: the log shows it.
        return [
            ("sms_id.state", "=", "error"),
            ("sms_retries", "<", SMS_MAX_RETRIES),
        ]

    @api.model
    def _paycrm_retry_failed_sms(self, policy):
        """Put reminder SMS the provider refused back in Odoo's SMS queue."""
        logs = self._paycrm_queue_claim(None, domain=[("policy_id", "=", policy.id)])
        for log in logs:
            log._paycrm_queue_schedule(
                log.sms_retries + 1,
                None,
                _(
                    "SMS failed (%(failure)s); queued again (attempt %(n)s).",
                    failure=log.sms_id.failure_type or "unknown",
                    n=log.sms_retries + 2,
                ),
            )
        # sudo: SMS records belong to the mail machinery, not to our users.
        logs.sms_id.sudo().action_set_outgoing()
