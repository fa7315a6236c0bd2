from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

    paycrm_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Payment Gateway",
        compute="_compute_paycrm_gateway_id",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('company_id', '=', company_id), ('state', '!=', 'disabled')]",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_link_url = fields.Char(
        string="Payment Link",
        compute="_compute_paycrm_link_url",
        groups="paycrm_connector.group_paycrm_user",
        help="Stable pay URL: it never expires and always asks for today's amount.",
    )
    paycrm_link_state = fields.Selection(
        const.LINK_STATES,
        string="Link State",
        compute="_compute_paycrm_link_state",
        store=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_gateway_ref = fields.Char(
        string="Gateway Reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_amount_received = fields.Monetary(
        string="Received via Gateway",
        readonly=True,
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_fee_amount = fields.Monetary(
        string="Gateway Fees",
        readonly=True,
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
    )

    paycrm_promise_date = fields.Date(
        string="Promised Payment Date",
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Reminders pause until this date plus the policy's grace days.",
    )
    paycrm_promise_amount = fields.Monetary(
        string="Promised Amount",
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_reminder_stage_id = fields.Many2one(
        "paycrm.reminder.stage",
        string="Last Reminder",
        # Stored compute, not written by the run: account.move.write() resyncs
        # the journal lines, which cost 15 ms per invoice in the benchmark.
        compute="_compute_paycrm_reminder_stage_id",
        store=True,
        index="btree_not_null",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_predicted_pay_date = fields.Date(
        string="Predicted Pay Date",
        compute="_compute_paycrm_predicted_pay_date",
        store=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Due date plus the customer's usual delay (its payment profile; "
        "company-wide history while it has few paid invoices), never before "
        "today. Refreshed nightly and whenever the profile changes.",
    )
    paycrm_reminder_log_ids = fields.One2many(
        "paycrm.reminder.log",
        "invoice_id",
        string="Reminders",
        groups="paycrm_connector.group_paycrm_user",
    )

    @api.depends("paycrm_reminder_log_ids.result", "paycrm_reminder_log_ids.stage_id")
    def _compute_paycrm_reminder_stage_id(self):
        for move in self:
            sent = move.paycrm_reminder_log_ids.filtered(
                lambda log: log.result in ("sent", "fallback")
            )
            move.paycrm_reminder_stage_id = sent.stage_id.sorted("offset_days")[-1:]

    paycrm_disputed = fields.Boolean(
        string="Disputed",
        readonly=True,
        copy=False,
        tracking=True,
        groups="paycrm_connector.group_paycrm_user",
        help="A chargeback is open at the gateway: its amount left the clearing "
        "account until the dispute is won.",
    )
    paycrm_event_ids = fields.One2many(
        "paycrm.event",
        "invoice_id",
        string="Gateway Events",
        groups="paycrm_connector.group_paycrm_user",
    )

    def action_paycrm_refund(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Refund through the Gateway"),
            "res_model": "paycrm.refund",
            "view_mode": "form",
            "target": "new",
            "context": {"default_invoice_id": self.id},
        }

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "invoice_date_due",
        "commercial_partner_id.paycrm_predict_delay_days",
    )
    def _compute_paycrm_predicted_pay_date(self):
        today = fields.Date.context_today(self)
        for move in self:
            if (
                move.move_type != "out_invoice"
                or move.state != "posted"
                or move.payment_state not in ("not_paid", "partial")
            ):
                move.paycrm_predicted_pay_date = False
                continue
            delay = move.commercial_partner_id.paycrm_predict_delay_days
            predicted = move._paycrm_reminder_due_date() + timedelta(days=delay)
            move.paycrm_predicted_pay_date = max(predicted, today)

    @api.depends("company_id", "move_type")
    def _compute_paycrm_gateway_id(self):
        gateway_model = self.env["paycrm.gateway"]
        for move in self:
            if move.move_type not in CUSTOMER_MOVE_TYPES:
                move.paycrm_gateway_id = False
            elif not move.paycrm_gateway_id:
                move.paycrm_gateway_id = gateway_model._paycrm_for_company(
                    move.company_id
                )

    @api.depends("move_type", "state", "access_token")
    def _compute_paycrm_link_url(self):
        for move in self:
            if (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.access_token
            ):
                move.paycrm_link_url = (
                    f"{move.get_base_url()}/paycrm/pay/{move.id}/{move.access_token}"
                )
            else:
                move.paycrm_link_url = False

    @api.depends("move_type", "state", "payment_state")
    def _compute_paycrm_link_state(self):
        for move in self:
            if move.move_type != "out_invoice" or move.state == "draft":
                move.paycrm_link_state = "none"
            elif move.state == "cancel" or move.payment_state == "reversed":
                move.paycrm_link_state = "cancelled"
            elif move.payment_state in ("paid", "in_payment"):
                move.paycrm_link_state = "paid"
            else:
                move.paycrm_link_state = "active"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # Every posted customer invoice carries its stable pay link from now on.
        for move in posted.filtered(lambda m: m.move_type == "out_invoice"):
            move._portal_ensure_token()
        self._paycrm_touch_profiles(posted)
        return posted

    def button_draft(self):
        res = super().button_draft()
        self._paycrm_touch_profiles(self)
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self._paycrm_touch_profiles(self)
        return res

    @api.model
    def _paycrm_touch_profiles(self, moves):
        customer_moves = moves.filtered(lambda m: m.move_type in CUSTOMER_MOVE_TYPES)
        self.env["paycrm.profile"]._paycrm_profile_touch(
            customer_moves.commercial_partner_id.ids
        )

    # Reminders ------------------------------------------------------------

    def _paycrm_reminder_due_date(self):
        self.ensure_one()
        return self.invoice_date_due or self.invoice_date

    def _paycrm_reminder_skip_reason(self, today, policy):
        """Why this invoice gets no reminder today (a translated string), or False.

        Override point: other modules add reasons by calling super() first and
        returning their own reason when it is False.
        """
        self.ensure_one()
        if self.state != "posted":
            return _("Not posted")
        if self.payment_state in ("paid", "in_payment", "reversed"):
            return _("Paid")
        if self.paycrm_disputed:
            return _("Disputed at the gateway")
        if self.paycrm_promise_date and today <= self.paycrm_promise_date + timedelta(
            days=policy.promise_grace_days
        ):
            return _(
                "Promise to pay by %(date)s",
                date=fields.Date.to_string(self.paycrm_promise_date),
            )
        return False

    def _paycrm_paid_dates(self):
        """{invoice id: date of its last reconciliation} for paid invoices."""
        partials = self.line_ids.filtered(
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

    def _paycrm_reminder_policy(self):
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        return (
            partner.paycrm_reminder_policy_id
            or self.company_id.paycrm_reminder_policy_id
        )

    def action_paycrm_send_reminder_now(self):
        """Send the stage due today (or the first stage) for these invoices.

        Bound to invoices as the server action "Send reminder now", usable from
        Automation Rules. The log still guarantees each stage goes out once.
        """
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            raise UserError(_("Select customer invoices to remind."))
        stats = {"sent": 0, "failed": 0, "skipped": 0}
        for policy, group in invoices.grouped(
            lambda m: m._paycrm_reminder_policy()
        ).items():
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
            for key in stats:
                stats[key] += result[key]
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
            },
        }

    def action_paycrm_promise(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Promise to Pay"),
            "res_model": "paycrm.promise.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self[:1].commercial_partner_id.id,
                "default_invoice_ids": self.ids,
            },
        }

    def _paycrm_reminder_lines(self):
        """Template lines for these invoices when rendered outside a run (e.g.
        the template preview): the run passes its own grouped lines."""
        today = fields.Date.context_today(self)
        return [
            {
                "invoice": move,
                "days_late": (today - move._paycrm_reminder_due_date()).days,
                "residual": move.amount_residual,
                "currency": move.currency_id,
                "due_date": move._paycrm_reminder_due_date(),
                # sudo: the link goes to the customer in this very message.
                "link": move.sudo().paycrm_link_url,
            }
            for move in self
        ]
