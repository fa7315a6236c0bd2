from datetime import timedelta

from odoo import _, api, fields, models

from .. import const

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    """Invoices carry their payment fields; the behaviour lives with its
    concern: links in ``paycrm.link`` / ``paycrm.link.url`` /
    ``paycrm.link.sender``, reminders in the reminder models."""

    _inherit = "account.move"

    # Profiles, alerts and their triggers look invoices up by customer (a
    # profile write alone searches them: the predicted pay date depends on
    # it); account leaves this column unindexed.
    commercial_partner_id = fields.Many2one(index=True)
    paycrm_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Payment Gateway",
        compute="_compute_paycrm_gateway_id",
        store=True,
        readonly=False,
        check_company=True,
        copy=False,
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
    paycrm_link_ids = fields.One2many(
        "paycrm.link",
        "move_id",
        string="Checkout Sessions",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_link_last_opened = fields.Datetime(
        string="Link Last Opened",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    # Failed customer clicks, counted by raw SQL from the public routes.
    paycrm_link_failure_count = fields.Integer(
        string="Failed Link Attempts",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
        help="Customer clicks whose payment page could not be opened or "
        "completed (gateway refused or failed). The chatter notes the first "
        "failure of each hour; this counts every one.",
    )
    paycrm_link_failure_noted = fields.Datetime(
        string="Link Failure Noted",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    # The link funnel (sent -> opened -> paid), written by raw SQL counters.
    paycrm_link_sent_count = fields.Integer(
        string="Link Sends",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
        help="Emails, SMS and reminders that carried the payment link.",
    )
    paycrm_link_first_sent = fields.Datetime(
        string="Link First Sent",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_link_first_opened = fields.Datetime(
        string="Link First Opened",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_link_expires_at = fields.Datetime(
        string="Session Expiry",
        compute="_compute_paycrm_link_session",
        groups="paycrm_connector.group_paycrm_user",
        help="When the current hosted checkout session ends; the stable link "
        "then opens a new one.",
    )
    paycrm_link_session_count = fields.Integer(
        string="Sessions",
        compute="_compute_paycrm_link_session",
        groups="paycrm_connector.group_paycrm_user",
    )

    @api.depends("paycrm_reminder_log_ids.result", "paycrm_reminder_log_ids.stage_id")
    def _compute_paycrm_reminder_stage_id(self):
        for move in self:
            move.paycrm_reminder_stage_id = (
                move.paycrm_reminder_log_ids._paycrm_last_stage()
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
        open_moves = self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.payment_state in ("not_paid", "partial")
            )
        )
        # The customer's profile in the invoice's company (one per company),
        # read company by company.
        delays = {}
        for company, moves in open_moves.grouped("company_id").items():
            for partner in moves.commercial_partner_id.with_company(company):
                delays[partner.id, company.id] = partner.paycrm_predict_delay_days
        open_ids = set(open_moves.ids)
        for move in self:
            if move.id not in open_ids:
                move.paycrm_predicted_pay_date = False
                continue
            delay = delays[move.commercial_partner_id.id, move.company_id.id]
            due = self.env["paycrm.reminder.planner"]._paycrm_due_date(move)
            predicted = due + timedelta(days=delay)
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

    def _paycrm_gateway(self):
        """The gateway that collects this invoice: its own, else the company's
        current default (invoices posted before any gateway existed name none)."""
        self.ensure_one()
        return self.paycrm_gateway_id or self.env["paycrm.gateway"]._paycrm_for_company(
            self.company_id
        )

    def _paycrm_is_payable(self):
        """Whether the customer can pay this invoice online now, through its
        stable link: for the link, the portal, the mail layout and reminders."""
        self.ensure_one()
        gateway = self._paycrm_gateway()
        return bool(
            self.move_type == "out_invoice"
            and self.state == "posted"
            and gateway
            and gateway.state != "disabled"
            and self.currency_id.compare_amounts(self.amount_residual, 0) > 0
        )

    @api.depends("move_type", "state", "access_token")
    def _compute_paycrm_link_url(self):
        url_model = self.env["paycrm.link.url"]
        for move in self:
            if (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.access_token
            ):
                move.paycrm_link_url = url_model._paycrm_pay_url(move)
            else:
                move.paycrm_link_url = False

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "access_token",
        "paycrm_gateway_id.state",
    )
    def _compute_paycrm_link_state(self):
        for move in self:
            if (
                move.move_type != "out_invoice"
                or move.state == "draft"
                # No token or no enabled gateway: no URL a customer could pay
                # through (invoices posted before installation, see
                # paycrm.link.url._paycrm_give_invoices_links).
                or (
                    move.state == "posted"
                    and move.payment_state not in ("paid", "in_payment", "reversed")
                    and (
                        not move.access_token
                        or move.paycrm_gateway_id.state in (False, "disabled")
                    )
                )
            ):
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
        # sudo: whoever may post an invoice may send its link on post, even
        # without the connector group that guards the link fields.
        self.env["paycrm.link.sender"].sudo()._paycrm_send_link(
            posted.sudo().filtered(
                lambda m: (
                    m.company_id.paycrm_send_link_on_post and m._paycrm_is_payable()
                )
            ),
            channel="email",
        )
        self._paycrm_touch_profiles(posted)
        return posted

    def button_draft(self):
        res = super().button_draft()
        # sudo: resetting needs no right on the technical link table.
        self.env["paycrm.link"].sudo()._paycrm_queue_finished_invoices(self)
        self._paycrm_touch_profiles(self)
        return res

    def button_cancel(self):
        result = super().button_cancel()
        # sudo: cancelling needs no right on the technical link table.
        self.env["paycrm.link"].sudo()._paycrm_queue_finished_invoices(self)
        self._paycrm_touch_profiles(self)
        return result

    @api.model
    def _paycrm_touch_profiles(self, moves):
        customer_moves = moves.filtered(lambda m: m.move_type in CUSTOMER_MOVE_TYPES)
        self.env["paycrm.profile"]._paycrm_profile_touch(
            customer_moves.commercial_partner_id.ids
        )

    # Reminders ------------------------------------------------------------

    def action_paycrm_send_reminder_now(self):
        """Server action "Send reminder now" (Automation Rules too)."""
        return self.env["paycrm.reminder.policy"]._paycrm_send_now(self)

    def action_paycrm_promise(self):
        return self.env["paycrm.promise.wizard"]._paycrm_open_for(self)

    def _paycrm_reminder_values(self):
        """What the reminder templates read when rendered outside a run (the
        template editor's preview): ``object._paycrm_reminder_values()`` is
        in their body, also in databases whose templates are not updated."""
        return self.env["paycrm.reminder.planner"]._paycrm_reminder_values(self)

    # ------------------------------------------------------------ payment links

    @api.depends("paycrm_link_ids.state", "paycrm_link_ids.expires_at")
    def _compute_paycrm_link_session(self):
        for move in self:
            links = move.paycrm_link_ids
            open_links = links.filtered(lambda lnk: lnk.state == "open")
            move.paycrm_link_expires_at = max(
                open_links.mapped("expires_at"), default=False
            )
            move.paycrm_link_session_count = len(links)

    # ------------------------------------------------------------- mail layout

    def _notify_by_email_prepare_rendering_context(
        self,
        message,
        msg_vals=False,
        model_description=False,
        force_email_company=False,
        force_email_lang=False,
    ):
        render_context = super()._notify_by_email_prepare_rendering_context(
            message,
            msg_vals,
            model_description=model_description,
            force_email_company=force_email_company,
            force_email_lang=force_email_lang,
        )
        # sudo: the layout is rendered for any author (portal users included);
        # the pay URL only carries the invoice's own portal token.
        move = self.sudo()
        if len(move) == 1 and move._paycrm_is_payable():
            url = self.env["paycrm.link.url"]._paycrm_pay_url(move)
            render_context["paycrm_pay_url"] = url
        return render_context

    def _notify_thread_by_email(self, message, recipients_data, *args, **kwargs):
        result = super()._notify_thread_by_email(
            message, recipients_data, *args, **kwargs
        )
        # The layout carries "Pay online" for a payable invoice (see above):
        # an email to the customer (Send & Print, a chatter message) sends
        # the link as much as the link wizard does.
        move = self.sudo()
        if len(move) == 1 and move._paycrm_is_payable():
            emailed = self.env["res.partner"].browse(
                [r["id"] for r in recipients_data if r.get("notif") == "email"]
            )
            customer = move.commercial_partner_id
            if emailed.filtered(lambda p: p.commercial_partner_id == customer):
                self.env["paycrm.link.sender"]._paycrm_note_link_sent(move)
        return result

    # ------------------------------------------------------- low-code actions

    def action_paycrm_send_link(self):
        """Open the Send payment link wizard for the selected invoices."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Send Payment Link"),
            "res_model": "paycrm.link.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    # Server actions (Action menu, Automation Rules) call these by name.

    def _paycrm_action_send_link(self, channel="email"):
        self.env["paycrm.link.sender"]._paycrm_send_payable(self, channel)
        return True

    def _paycrm_action_give_links(self):
        # sudo: writes only the gateway and portal token of open invoices.
        return self.env["paycrm.link.url"].sudo()._paycrm_action_give_links(self)

    def _paycrm_action_create_link(self):
        return self.env["paycrm.link"]._paycrm_open_checkouts(self)
