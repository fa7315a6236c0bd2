from odoo import models


class MailNotification(models.Model):
    _inherit = "mail.notification"

    def write(self, vals):
        res = super().write(vals)
        if "notification_status" in vals:
            # Reminder logs follow their message's delivery (sent, failed,
            # bounced). Odoo offers no delivery hook: the mail queue, the SMS
            # provider's report, a bounce and a resend each write the status
            # here, so this is the one place that sees them all.
            self.env["paycrm.reminder.log"]._paycrm_follow_delivery(
                self.mail_message_id
            )
        return res
