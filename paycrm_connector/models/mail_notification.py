from odoo import models


class MailNotification(models.Model):
    _inherit = "mail.notification"

    def write(self, vals):
        res = super().write(vals)
        if "notification_status" in vals:
            # Reminder logs follow their message's delivery (sent, failed,
            # bounced): every status change Odoo makes goes through here.
            self.env["paycrm.reminder.log"]._paycrm_follow_delivery(
                self.mail_message_id
            )
        return res
