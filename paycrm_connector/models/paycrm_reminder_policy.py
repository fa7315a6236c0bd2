"""Reminder policies and their run: plan who is due which stage, claim, queue, log.

Each (invoice, stage) is sent once, ever, because a log row is claimed with
``INSERT ... ON CONFLICT DO NOTHING`` in the same transaction that queues the
message: a second run, a rerun after a crash or a concurrent run finds the row
(or waits for it, then fails to serialise and is retried) and sends nothing.
"""

import logging
import threading
from datetime import datetime

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

_logger = logging.getLogger(__name__)

BATCH_SIZE_PARAM = "paycrm_connector.reminder_batch_size"


def redo_sql(alias):
    """A log the next run sends again: it failed before any message was queued
    (a template that did not render, an SMS that could not be queued). A
    message that failed or bounced on its way out is not sent again by the
    run: Odoo's resend (and the SMS retries) act on that very message, and
    the log follows it."""
    log = SQL.identifier(alias)
    return SQL("(%s.result = 'failed' AND %s.mail_message_id IS NULL)", log, log)


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
        # The run works in the policy's company (and sends as superuser where
        # it must): only for a user who may manage this very policy.
        self.check_access("write")
        return self._paycrm_run_notification(self._paycrm_run(), close=True)

    @api.model
    def _paycrm_send_now(self, invoices):
        """Send the stage due today (or the first stage) for ``invoices``.

        Behind the invoices' server action "Send reminder now", usable from
        Automation Rules. The log still guarantees each stage goes out once.
        """
        # The run works in each policy's company: only invoices this user may
        # change, in the companies active now (any id can come over RPC).
        invoices.check_access("write")
        invoices = invoices.filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            raise UserError(_("Select customer invoices to remind."))
        planner = self.env["paycrm.reminder.planner"]
        stats = self._paycrm_new_stats()
        for policy, group in invoices.grouped(planner._paycrm_policy_for).items():
            if not policy:
                raise UserError(
                    _(
                        "No reminder policy for %(invoices)s: set a default policy "
                        "in Accounting settings or one on the customer.",
                        invoices=", ".join(group.mapped("name")),
                    )
                )
            result = policy.with_company(policy.company_id)._paycrm_run(
                invoices=group, force=True
            )
            self._paycrm_add_stats(stats, result)
        return self._paycrm_run_notification(stats)

    @api.model
    def _paycrm_new_stats(self):
        """What a run did: customers reminded (``sent``: by ``email``, by
        ``sms``), customers whose message could not be prepared (``failed``),
        customers skipped, invoices skipped per reason (``reasons``), and
        whether the whole run was a skipped weekend day."""
        return {
            "sent": 0,
            "failed": 0,
            "skipped": 0,
            "email": 0,
            "sms": 0,
            "reasons": {},
            "weekend": False,
        }

    @api.model
    def _paycrm_add_stats(self, total, part):
        for key, value in part.items():
            if key == "reasons":
                for reason, count in value.items():
                    total["reasons"][reason] = total["reasons"].get(reason, 0) + count
            elif key == "weekend":
                total["weekend"] = total["weekend"] or value
            else:
                total[key] += value
        return total

    @api.model
    def _paycrm_run_notification(self, stats, close=False):
        """The toast shown after a manual run, from ``_paycrm_run`` stats: what
        was queued on which channel, what failed, what was skipped and why."""
        parts = []
        if stats["weekend"]:
            parts.append(
                _(
                    "Nothing sent: today is a weekend day and this policy skips "
                    "weekends."
                )
            )
        elif stats["sent"]:
            parts.append(
                _(
                    "%(sent)s customers reminded: %(email)s by email, %(sms)s by "
                    "SMS. The messages are queued; the reminder log shows when "
                    "each one is sent, fails or bounces.",
                    sent=stats["sent"],
                    email=stats["email"],
                    sms=stats["sms"],
                )
            )
        elif not stats["failed"]:
            parts.append(_("No reminder sent."))
        if stats["failed"]:
            parts.append(
                _(
                    "%(failed)s customers not reminded: their message could not "
                    "be prepared (the reminder log says why).",
                    failed=stats["failed"],
                )
            )
        if stats["reasons"]:
            parts.append(
                _(
                    "Invoices skipped: %(reasons)s.",
                    reasons="; ".join(
                        f"{reason} ({count})"
                        for reason, count in sorted(stats["reasons"].items())
                    ),
                )
            )
        params = {
            "title": _("Reminders"),
            "message": " ".join(parts),
            "type": "warning" if stats["failed"] else "success",
            "sticky": bool(stats["failed"]),
        }
        if close:
            params["next"] = {"type": "ir.actions.act_window_close"}
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": params,
        }

    def action_paycrm_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "paycrm_connector.paycrm_reminder_log_action"
        )
        action["domain"] = [("policy_id", "=", self.id)]
        return action

    # Planning -------------------------------------------------------------

    def _paycrm_today(self):
        """Today's date in the company's time zone (the cron runs in UTC)."""
        self.ensure_one()
        tz = pytz.timezone(self.company_id.partner_id.tz or "UTC")
        return datetime.now(tz).date()

    def _paycrm_candidates(self, today, invoices=None, force=False):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        if invoices is not None:
            domain.append(("id", "in", invoices.ids))
        else:
            own = ("commercial_partner_id.paycrm_reminder_policy_id", "=", self.id)
            if self.company_id.paycrm_reminder_policy_id == self:
                unset = ("commercial_partner_id.paycrm_reminder_policy_id", "=", False)
                domain += ["|", own, unset]
            else:
                domain.append(own)
        if not force:
            limit = fields.Date.subtract(
                today, days=min(self.stage_ids.mapped("offset_days"))
            )
            domain += [
                "|",
                ("invoice_date_due", "<=", limit),
                "&",
                ("invoice_date_due", "=", False),
                ("invoice_date", "<=", limit),
            ]
        return (
            self.env["account.move"]
            .with_company(self.company_id)
            .search(domain, order="commercial_partner_id, invoice_date_due, id")
        )

    def _paycrm_last_offsets(self, invoices):
        """{invoice id: highest stage offset already sent (the ones the run
        will redo excluded, see redo_sql)}."""
        if not invoices:
            return {}
        self.env["paycrm.reminder.log"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT log.invoice_id, MAX(stage.offset_days)
                     FROM paycrm_reminder_log log
                     JOIN paycrm_reminder_stage stage ON stage.id = log.stage_id
                    WHERE log.invoice_id = ANY(%s) AND NOT (%s)
                 GROUP BY log.invoice_id""",
                invoices.ids,
                redo_sql("log"),
            )
        )
        return dict(self.env.cr.fetchall())

    def _paycrm_plan_today(self, invoices=None, force=False):
        """(today, weekend, groups): what a run does today. The cron, Run now,
        Send reminder now and the Preview all start here, so the Preview
        shows the very stages, recipients and channels the run logs.
        ``weekend``: a skipped weekend day (no groups then)."""
        self.ensure_one()
        today = self._paycrm_today()
        if self.skip_weekends and today.weekday() >= 5 and not force:
            return today, True, []
        return today, False, self._paycrm_plan(today, invoices=invoices, force=force)

    def _paycrm_plan(self, today, invoices=None, force=False):
        """Customer groups due a reminder today, skipped ones with their reason.

        Returns a list of dicts: partner (commercial), recipient, items
        [(invoice, stage, days_late)], skipped [(invoice, stage, reason)],
        stage (the most advanced one, whose template and channel are used),
        channels (set), note (fallback) and reason (customer-level skip).
        """
        self.ensure_one()
        stages = self.stage_ids.sorted("offset_days")
        if not stages:
            return []
        candidates = self._paycrm_candidates(today, invoices, force)
        last_offsets = self._paycrm_last_offsets(candidates)
        planner = self.env["paycrm.reminder.planner"]
        groups = []
        for partner, invoices_of in candidates.grouped("commercial_partner_id").items():
            group = {"partner": partner, "items": [], "skipped": [], "reason": False}
            for invoice in invoices_of:
                days = (today - planner._paycrm_due_date(invoice)).days
                stage = stages.filtered(lambda s, d=days: s.offset_days <= d)[-1:]
                if not stage and force:
                    stage = stages[0]
                last = last_offsets.get(invoice.id)
                if not stage or (last is not None and stage.offset_days <= last):
                    continue
                reason = planner._paycrm_skip_reason(invoice, today, self)
                if (
                    not reason
                    and stage.min_amount
                    and invoice.company_currency_id.compare_amounts(
                        invoice.amount_residual_signed, stage.min_amount
                    )
                    < 0
                ):
                    reason = _("Below the stage minimum")
                if reason:
                    group["skipped"].append((invoice, stage, reason))
                else:
                    group["items"].append((invoice, stage, days))
            if group["items"] or group["skipped"]:
                groups.append(group)
                self._paycrm_plan_customer(group)
        return groups

    def _paycrm_plan_customer(self, group):
        partner = group["partner"]
        if partner.paycrm_reminder_opt_out:
            group["reason"] = _("Customer opted out of reminders")
        elif partner.paycrm_reminder_hold:
            group["reason"] = _("Customer on hold")
        if not group["items"]:
            return
        group["recipient"] = recipient = group["items"][0][0].partner_id
        group["stage"] = stage = max(
            (item[1] for item in group["items"]), key=lambda s: s.offset_days
        )
        wanted = {"email", "sms"} if stage.channel == "both" else {stage.channel}
        preferred = partner.paycrm_reminder_channel or "email"
        allowed = {"email", "sms"} if preferred == "both" else {preferred}
        channels = (wanted & allowed) or allowed
        note = False
        if "sms" in channels and not recipient.paycrm_mobile_valid:
            channels = (channels - {"sms"}) | {"email"}
            note = _("No valid mobile: sent by email instead of SMS.")
        if "email" in channels and not recipient.email:
            channels.discard("email")
            if recipient.paycrm_mobile_valid and not channels:
                channels.add("sms")
                note = _("No email address: sent by SMS instead.")
        group["channels"] = channels
        group["note"] = note
        if not channels and not group["reason"]:
            group["reason"] = _("Neither an email address nor a valid mobile")
            group["unreachable"] = True

    # Running --------------------------------------------------------------

    @api.model
    def _cron_paycrm_run_reminders(self):
        # Cron workers commit per batch; Odoo's test threads must not commit.
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        for policy in self.search([("stage_ids", "!=", False)]):
            policy.with_company(policy.company_id)._paycrm_run(auto_commit=auto_commit)

    def _paycrm_run(self, invoices=None, force=False, auto_commit=False):
        """Send what is due today. ``force`` (Send now) ignores weekends and
        sends the first stage to invoices not yet due any."""
        self.ensure_one()
        stats = self._paycrm_new_stats()
        self.env["paycrm.reminder.log"]._paycrm_credit_payments()
        self.env["paycrm.reminder.log"]._paycrm_retry_failed_sms(self)
        today, weekend, groups = self._paycrm_plan_today(invoices, force)
        if weekend:
            stats["weekend"] = True
            return stats
        batch_size = int(
            self.env["ir.config_parameter"].sudo().get_param(BATCH_SIZE_PARAM, 200)
        )
        done = 0
        Log = self.env["paycrm.reminder.log"]
        for batch in split_every(batch_size, groups, list):
            for attempt in (1, 2):
                try:
                    batch_stats = self._paycrm_send_batch(batch, today)
                    if auto_commit:
                        # One commit per batch keeps a long cron run resumable; the
                        # reminder log's unique key makes a rerun skip what is done.
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                    break
                except Exception as exc:  # noqa: BLE001 - re-raised unless transient
                    # A concurrent run holds some of these (invoice, stage)
                    # rows (a serialisation failure, as the queue classes
                    # it): start the batch over on a fresh snapshot, where
                    # they show up as sent and are left out.
                    if not (
                        auto_commit
                        and attempt == 1
                        and Log._paycrm_queue_is_transient(exc)
                    ):
                        raise
                    self.env.cr.rollback()
                    self.env.invalidate_all()
                    batch = self._paycrm_replan(batch, today, force)
            self._paycrm_add_stats(stats, batch_stats)
            done += len(batch)
            self.env["ir.cron"]._notify_progress(
                done=done, remaining=len(groups) - done
            )
        _logger.info(
            "Reminder policy %s (company %s): %s", self.id, self.company_id.id, stats
        )
        return stats

    def _paycrm_replan(self, batch, today, force):
        invoices = self.env["account.move"].union(
            *(item[0] for group in batch for item in group["items"])
        )
        return self._paycrm_plan(today, invoices=invoices, force=force)

    def _paycrm_claim_logs(self, groups, now):
        """Insert one pending log per (invoice, stage); return {invoice id: log id}
        for the rows this transaction owns. Rows that failed before any
        message was queued are claimed again (redo_sql)."""
        rows = [
            SQL(
                "(%s, %s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s)",
                self.company_id.id,
                invoice.id,
                stage.id,
                stage.policy_id.id,
                group["partner"].id,
                now,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
            for group in groups
            for invoice, stage, _days in group["items"]
        ]
        if not rows:
            return {}
        self.env.cr.execute(
            SQL(
                """INSERT INTO paycrm_reminder_log
                       (company_id, invoice_id, stage_id, policy_id, partner_id, result,
                        sent_at, create_uid, create_date, write_uid, write_date)
                   VALUES %s
                   ON CONFLICT (invoice_id, stage_id) DO UPDATE
                       SET result = 'pending', error = NULL, sent_at = EXCLUDED.sent_at
                     WHERE %s
                   RETURNING invoice_id, id""",
                SQL(", ").join(rows),
                redo_sql("paycrm_reminder_log"),
            )
        )
        claimed = dict(self.env.cr.fetchall())
        # The rows came in through SQL: drop cached one2manys that miss them.
        self.env["account.move"].invalidate_model(["paycrm_reminder_log_ids"])
        return claimed

    def _paycrm_send_batch(self, groups, today):
        stats = self._paycrm_new_stats()
        reasons = stats["reasons"]

        def skip(reason, count):
            reasons[reason] = reasons.get(reason, 0) + count

        todo = []
        for group in groups:
            for _invoice, _stage, reason in group["skipped"]:
                skip(reason, 1)
            if group["reason"]:
                stats["skipped"] += 1
                skip(group["reason"], len(group["items"]))
                if group.get("unreachable"):
                    self.env["paycrm.reminder.dispatch"]._paycrm_note_unreachable(group)
            elif group["items"]:
                todo.append(group)
        now = fields.Datetime.now()
        claimed = self._paycrm_claim_logs(todo, now)
        Log = self.env["paycrm.reminder.log"]
        sendable = []
        for group in todo:
            taken = [item for item in group["items"] if item[0].id in claimed]
            if len(taken) < len(group["items"]):
                # A concurrent run got there first (the log's unique key).
                skip(_("Already sent by another run"), len(group["items"]) - len(taken))
            group["items"] = taken
            group["logs"] = Log.browse(claimed[item[0].id] for item in group["items"])
            if group["items"]:
                sendable.append(group)
            else:
                stats["skipped"] += 1
        if not sendable:
            return stats
        self.env["paycrm.reminder.dispatch"]._paycrm_deliver(self, sendable, now, today)
        self._paycrm_note_links_sent(sendable)
        for group in sendable:
            if group.get("error"):
                stats["failed"] += 1
                continue
            stats["sent"] += 1
            stats["email"] += "email" in group["channels"]
            stats["sms"] += "sms" in group["channels"] and not group.get("sms_error")
        return stats

    def _paycrm_note_links_sent(self, groups):
        """Reminders that went out with pay links count as link sends (the
        link funnel)."""
        moves = self.env["account.move"]
        invoices = moves.concat(
            *(
                line["invoice"]
                for group in groups
                if not group.get("error") and group.get("message")
                for line in group["lines"]
                if line["link"]
            )
        )
        # sudo: the counters are derived data of the invoices just reminded.
        self.env["paycrm.link.sender"]._paycrm_note_link_sent(invoices.sudo())
