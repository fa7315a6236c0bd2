"""Rendering and queuing of reminder messages, in batches.

Emails are rendered once per template and batch (one render call for all the
customers of the batch, the template compiled once, see ir_qweb.py), then queued
as mail.mail with one create call; SMS are queued the same way (messages, sms.sms
and notifications, one create each, as the sms module's notification does for
one record); the chatter notes on invoices are logged with one
``_message_log_batch`` call and the reminder logs are written once per outcome.
"""

import logging

from markupsafe import Markup, escape

from odoo import Command, _, fields, models
from odoo.tools import format_amount, format_date
from odoo.tools.mail import generate_tracking_message_id

from odoo.addons.sms.tools.sms_tools import sms_content_to_rendered_html

from .ir_qweb import COMPILE_ONCE_KEY

_logger = logging.getLogger(__name__)

SMS_MAX_RETRIES = 3


class PaycrmReminderDispatch(models.AbstractModel):
    """Turns a policy run's planned groups into queued emails, SMS and notes."""

    _name = "paycrm.reminder.dispatch"
    _description = "Payment Reminder Dispatch"

    def _paycrm_reminders(self, groups, today):
        """Set each group's ``reminder`` (what the message may truthfully say,
        see paycrm.reminder.planner._paycrm_reminder_values) and its
        ``lines``; whether an invoice was reminded before is read once for the
        whole batch."""
        moves = self.env["account.move"]
        planner = self.env["paycrm.reminder.planner"]
        invoices = moves.concat(*(item[0] for g in groups for item in g["items"]))
        reminded = planner._paycrm_reminded_invoice_ids(invoices)
        for group in groups:
            reminder = planner._paycrm_reminder_values(
                moves.concat(*(item[0] for item in group["items"])),
                today,
                stages={item[0].id: item[1] for item in group["items"]},
                reminded=reminded,
            )
            group["reminder"] = reminder
            group["lines"] = reminder["lines"]

    def _paycrm_render_emails(self, groups):
        """Render subject and body per group; a group whose template fails gets
        ``error`` set and the others are still rendered."""
        for template, tgroups in self._paycrm_by_template(groups).items():
            context = {
                "paycrm_reminders": {
                    g["items"][0][0].id: g["reminder"] for g in tgroups
                },
                # What templates written before paycrm_reminders read.
                "paycrm_groups": {g["items"][0][0].id: g["lines"] for g in tgroups},
            }
            try:
                self._paycrm_render_into(template, tgroups, context)
            except Exception:  # noqa: BLE001 - isolate the failing customers below
                # One broken template or record spoils the whole batch call:
                # render customer by customer to find who fails and why.
                for group in tgroups:
                    try:
                        self._paycrm_render_into(template, [group], context)
                    except Exception as exc:  # noqa: BLE001 - reported on the log
                        group["error"] = _(
                            "Template %(template)s failed to render: %(error)s",
                            template=template.name,
                            error=str(exc),
                        )

    def _paycrm_by_template(self, groups):
        by_template = {}
        for group in groups:
            if "email" in group["channels"]:
                by_template.setdefault(group["stage"].mail_template_id, []).append(
                    group
                )
        return by_template

    def _paycrm_render_into(self, template, groups, context):
        lead_ids = [g["items"][0][0].id for g in groups]
        template = template.with_context(**{COMPILE_ONCE_KEY: True})
        bodies = template._render_field(
            "body_html",
            lead_ids,
            compute_lang=True,
            add_context=context,
            options={"post_process": True},
        )
        subjects = template._render_field(
            "subject", lead_ids, compute_lang=True, add_context=context
        )
        for group, lead_id in zip(groups, lead_ids, strict=True):
            group["body"] = bodies[lead_id]
            group["subject"] = subjects[lead_id]

    def _paycrm_sms_values(self, policy, group, today):
        partner = group["recipient"]
        lang = partner.lang
        lines = group["lines"]
        currency = lines[0]["currency"]
        # The most overdue invoice speaks for the message.
        first = min(lines, key=lambda line: line["due_date"])["invoice"]
        return {
            "due_status": self.env["paycrm.reminder.planner"]
            .with_context(lang=lang)
            ._paycrm_due_status(first, today),
            "customer": partner.name or "",
            "company": policy.company_id.name,
            "invoices": ", ".join(line["invoice"].name for line in lines),
            "amount": format_amount(
                self.env, sum(line["residual"] for line in lines), currency, lang
            ),
            "due_date": format_date(self.env, lines[0]["due_date"], lang_code=lang),
            "days_late": str(max(max(line["days_late"] for line in lines), 0)),
            "links": " ".join(line["link"] for line in lines if line["link"]),
        }

    def _paycrm_deliver(self, policy, groups, now, today):
        company = policy.company_id
        self._paycrm_reminders(groups, today)
        self._paycrm_render_emails(groups)
        rendered = [g for g in groups if not g.get("error")]
        self._paycrm_queue_emails(
            [g for g in rendered if "email" in g["channels"]], company
        )
        self._paycrm_queue_sms(
            policy, [g for g in rendered if "sms" in g["channels"]], today
        )
        for group in rendered:
            if group.get("sms_error") and "email" not in group["channels"]:
                # Nothing at all left for this customer: a failure, retried
                # by the next run like a template that failed to render.
                group["error"] = group["sms_error"]
        rendered = [g for g in groups if not g.get("error")]
        self._paycrm_log_results(policy, groups, now)
        self._paycrm_escalate(rendered)

    def _paycrm_create_messages(self, company, groups, message_type, values):
        """One message on each group's customer, all created in one call.

        ``values(group)`` gives what differs per message (body, subject); the
        reply-to of all the customers is asked once, not once per message.
        """
        email_from = company.email_formatted or self.env.user.email_formatted
        reply_to = (
            self.env["res.partner"]
            .browse(g["partner"].id for g in groups)
            ._notify_get_reply_to(default=email_from)
        )
        base = {
            "model": "res.partner",
            "message_type": message_type,
            "subtype_id": self.env.ref("paycrm_connector.mt_paycrm_reminder").id,
            "is_internal": False,
            "author_id": company.partner_id.id,
            "email_from": email_from,
        }
        # sudo: messages, mails and SMS are the mailing machinery; the caller
        # already proved access to invoices and policy.
        return (
            self.env["mail.message"]
            .sudo()
            .create(
                [
                    dict(
                        base,
                        res_id=group["partner"].id,
                        record_name=group["partner"].display_name,
                        reply_to=reply_to[group["partner"].id],
                        partner_ids=[Command.link(group["recipient"].id)],
                        message_id=generate_tracking_message_id("paycrm-reminder"),
                        **values(group),
                    )
                    for group in groups
                ]
            )
        )

    def _paycrm_queue_emails(self, groups, company):
        if not groups:
            return
        messages = self._paycrm_create_messages(
            company,
            groups,
            "email_outgoing",
            lambda group: {"subject": group["subject"], "body": group["body"]},
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "mail_message_id": message.id,
                        "body_html": group["body"],
                        "recipient_ids": [(4, group["recipient"].id)],
                        "state": "outgoing",
                        "is_notification": True,
                        "auto_delete": True,
                    }
                    for group, message in zip(groups, messages, strict=True)
                ]
            )
        )
        self.env["mail.notification"].sudo().create(
            [
                {
                    "mail_message_id": mail.mail_message_id.id,
                    "mail_mail_id": mail.id,
                    "res_partner_id": group["recipient"].id,
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for group, mail in zip(groups, mails, strict=True)
            ]
        )
        for group, message, mail in zip(groups, messages, mails, strict=True):
            group["message"] = message
            group["mail"] = mail

    def _paycrm_queue_sms(self, policy, groups, today):
        """Queue one SMS per group, as ``_message_sms(put_in_queue=True)`` would
        (message on the customer, sms.sms, notification with its tracker) but
        with one create per model for the whole batch. The SMS cron talks to
        the provider outside this transaction; refused SMS are put back in the
        queue by the next run (_paycrm_retry_failed_sms)."""
        if not groups:
            return
        for group in groups:
            group["sms_body"] = group["stage"]._paycrm_render_sms(
                self._paycrm_sms_values(policy, group, today),
                lang=group["recipient"].lang,
            )
        try:
            with self.env.cr.savepoint():
                self._paycrm_create_sms(policy, groups)
            return
        except Exception:  # noqa: BLE001 - isolate the failing customers below
            _logger.warning("Reminder SMS batch not queued, retrying one by one")
        for group in groups:
            try:
                with self.env.cr.savepoint():
                    self._paycrm_create_sms(policy, [group])
            except Exception as exc:  # noqa: BLE001 - reported on the log, email stays
                _logger.warning(
                    "Reminder SMS to partner %s not queued: %s",
                    group["recipient"].id,
                    exc,
                )
                group["sms_error"] = str(exc)

    def _paycrm_create_sms(self, policy, groups):
        messages = self._paycrm_create_messages(
            policy.company_id,
            groups,
            "sms",
            lambda group: {"body": sms_content_to_rendered_html(group["sms_body"])},
        )
        # sudo: SMS and notifications belong to the mail machinery.
        sms_all = (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {
                        "body": group["sms_body"],
                        "mail_message_id": message.id,
                        "partner_id": group["recipient"].id,
                        "number": group["recipient"].paycrm_mobile_e164,
                        "state": "outgoing",
                    }
                    for group, message in zip(groups, messages, strict=True)
                ]
            )
        )
        self.env["mail.notification"].sudo().create(
            [
                {
                    "author_id": message.author_id.id,
                    "mail_message_id": message.id,
                    "res_partner_id": sms.partner_id.id,
                    "sms_number": sms.number,
                    "notification_type": "sms",
                    "sms_id_int": sms.id,
                    "sms_tracker_ids": [Command.create({"sms_uuid": sms.uuid})],
                    "is_read": True,
                    "notification_status": "ready",
                }
                for message, sms in zip(messages, sms_all, strict=True)
            ]
        )
        for group, message, sms in zip(groups, messages, sms_all, strict=True):
            group.setdefault("message", message)
            group["sms"] = sms

    def _paycrm_log_results(self, policy, groups, now):
        Log = self.env["paycrm.reminder.log"]
        notes = {}
        by_outcome = {}
        for group in groups:
            channels = group["channels"]
            channel = "both" if len(channels) == 2 else next(iter(channels))
            error = group.get("error") or group.get("sms_error")
            # Queued: the mail queue and the SMS provider decide what becomes
            # of the message; the log follows (paycrm.reminder.log
            # _paycrm_follow_delivery).
            outcome = (
                channel,
                "failed" if group.get("error") else "queued",
                group["note"],
                error or False,
            )
            by_outcome.setdefault(outcome, []).extend(group["logs"].ids)
            # Links only: no profile to touch, and the ORM flushes these
            # writes as one UPDATE for the batch.
            group["logs"].write(
                {
                    "mail_message_id": group.get(
                        "message", self.env["mail.message"]
                    ).id,
                    "mail_id": group.get("mail", self.env["mail.mail"]).id,
                    "sms_id": group.get("sms", self.env["sms.sms"]).id,
                }
            )
            if group.get("error"):
                continue
            how = dict(self.env["paycrm.reminder.log"]._fields["channel"].selection)[
                channel
            ]
            for invoice, stage, _days in group["items"]:
                notes[invoice.id] = Markup("%s<br/>%s") % (
                    _(
                        "Payment reminder %(stage)s queued by %(channel)s for "
                        "%(customer)s.",
                        stage=stage.name,
                        channel=how.lower(),
                        customer=group["recipient"].display_name,
                    ),
                    escape(group["note"] or ""),
                )
        # One write per outcome (queued, failed...), not one per customer.
        for (channel, result, note, error), log_ids in by_outcome.items():
            Log.browse(log_ids).write(
                {
                    "channel": channel,
                    "sent_at": now,
                    "result": result,
                    "note": note,
                    "error": error,
                }
            )
        if notes:
            self.env["account.move"].browse(list(notes))._message_log_batch(
                notes, author_id=policy.company_id.partner_id.id
            )

    def _paycrm_escalate(self, groups):
        activities = []
        hold = self.env["res.partner"]
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id("account.move")
        for group in groups:
            for invoice, stage, days in group["items"]:
                if stage.hold_customer:
                    hold |= group["partner"]
                if stage.escalation == "none":
                    continue
                user = (
                    stage.escalation_user_id
                    if stage.escalation == "user"
                    else invoice.invoice_user_id or group["partner"].user_id
                ) or self.env.user
                activities.append(
                    {
                        "res_model_id": model_id,
                        "res_id": invoice.id,
                        "activity_type_id": stage.escalation_activity_type_id.id,
                        "summary": _("Payment reminder: %(stage)s", stage=stage.name),
                        "note": _(
                            "%(invoice)s is %(days)s days overdue; automatic reminders "
                            "reached stage %(stage)s.",
                            invoice=invoice.name,
                            days=days,
                            stage=stage.name,
                        ),
                        "user_id": user.id,
                        "date_deadline": today,
                    }
                )
        if activities:
            self.env["mail.activity"].sudo().create(activities)
        if hold:
            hold.write({"paycrm_reminder_hold": True})

    def _paycrm_note_unreachable(self, group):
        partner = group["partner"]
        if partner.paycrm_cannot_remind_noted:
            return
        invoice = group["items"][0][0]
        user = invoice.invoice_user_id or partner.user_id or self.env.user
        partner.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Cannot send payment reminders"),
            note=_(
                "%(customer)s has neither an email address nor a valid mobile: "
                "payment reminders for %(invoices)s cannot be sent. Add one.",
                customer=partner.display_name,
                invoices=", ".join(item[0].name for item in group["items"]),
            ),
            user_id=user.id,
        )
        partner.paycrm_cannot_remind_noted = True

    def _paycrm_retry_failed_sms(self, policy):
        """Put reminder SMS the provider refused back in Odoo's SMS queue."""
        logs = self.env["paycrm.reminder.log"].search(
            [
                ("policy_id", "=", policy.id),
                ("sms_id.state", "=", "error"),
                ("sms_retries", "<", SMS_MAX_RETRIES),
            ]
        )
        for log in logs:
            log.write(
                {
                    "sms_retries": log.sms_retries + 1,
                    "error": _(
                        "SMS failed (%(failure)s); queued again (attempt %(n)s).",
                        failure=log.sms_id.failure_type or "unknown",
                        n=log.sms_retries + 2,
                    ),
                }
            )
        # sudo: SMS records belong to the mail machinery, not to our users.
        logs.sms_id.sudo().action_set_outgoing()
