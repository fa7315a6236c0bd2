import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, consteq, format_amount
from odoo.tools.misc import hmac as odoo_hmac

from .. import const
from ..gateways import GatewayError

_logger = logging.getLogger(__name__)

AMOUNT_SCOPE = "paycrm-link-amount"

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


@dataclass
class PaycrmSendOutcome:
    """What ``_paycrm_send_link`` did: the invoices whose link reached the
    customer by at least one channel, and per invoice the channels skipped
    with the reason (already noted on the invoice)."""

    sent: models.BaseModel
    skipped: dict = field(default_factory=dict)

    def notes(self):
        return [
            f"{move.name}: {note}"
            for move, notes in self.skipped.items()
            for note in notes
        ]


class AccountMove(models.Model):
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

    @api.depends("paycrm_reminder_log_ids.result", "paycrm_reminder_log_ids.stage_id")
    def _compute_paycrm_reminder_stage_id(self):
        for move in self:
            move.paycrm_reminder_stage_id = (
                move.paycrm_reminder_log_ids._paycrm_last_stage()
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

    @api.depends("move_type", "state", "access_token")
    def _compute_paycrm_link_url(self):
        for move in self:
            if (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.access_token
            ):
                move.paycrm_link_url = move._paycrm_pay_url()
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
                # paycrm.link._paycrm_give_invoices_links).
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
        posted.sudo().filtered(
            lambda m: m.company_id.paycrm_send_link_on_post and m._paycrm_is_payable()
        )._paycrm_send_link(channel="email")
        self._paycrm_touch_profiles(posted)
        return posted

    def button_draft(self):
        res = super().button_draft()
        # sudo: resetting needs no right on the technical link table.
        self.env["paycrm.link"].sudo()._paycrm_queue_finished_invoices(self)
        self._paycrm_touch_profiles(self)
        return res

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

    # ------------------------------------------------------------------ URLs

    def _paycrm_amount_signature(self, amount_minor):
        # sudo: the HMAC key is the database secret, readable by superuser only.
        return odoo_hmac(self.env(su=True), AMOUNT_SCOPE, (self.id, int(amount_minor)))

    def _paycrm_check_amount_signature(self, amount_minor, signature):
        # Bytes: consteq refuses str with non-ASCII characters (a junk sig).
        return bool(signature) and consteq(
            self._paycrm_amount_signature(amount_minor).encode(),
            str(signature).encode(),
        )

    def _paycrm_pay_url(self, amount=None, suffix="", query=None):
        """The stable pay URL: the one function that builds it.

        From configuration only (``web.base.url`` through ``get_base_url()``),
        never from the request's Host: the URL ends up in emails, SMS, gateway
        return URLs and pages an attacker could otherwise point elsewhere.
        ``suffix``: a sub-page (``/done``, ``/cancel``); a partial ``amount``
        rides along, signed; ``query``: more parameters (gateway choice...).
        """
        self.ensure_one()
        token = self._portal_ensure_token()
        url = f"{self.get_base_url().rstrip('/')}/paycrm/pay/{self.id}/{token}{suffix}"
        params = {}
        if (
            amount is not None
            and self.currency_id.compare_amounts(amount, self.amount_residual) < 0
        ):
            minor = self.env["paycrm.link"]._paycrm_minor(self.currency_id, amount)
            params = {"amount": minor, "sig": self._paycrm_amount_signature(minor)}
        params.update(query or {})
        return f"{url}?{urlencode(params)}" if params else url

    def _paycrm_portal_pay_url(self):
        """The pay URL the customer portal offers: ours when one of our
        gateways serves the invoice, else False (Odoo's own Pay Now stays)."""
        self.ensure_one()
        return self._paycrm_is_payable() and self._paycrm_pay_url()

    def _paycrm_note_link_sent(self):
        """Count one more send of these invoices' links (the link funnel).

        Raw SQL: an ORM write of account.move runs its accounting checks for
        what is a counter, and a reminder run sends thousands at once."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE account_move
                      SET paycrm_link_sent_count =
                              COALESCE(paycrm_link_sent_count, 0) + 1,
                          paycrm_link_first_sent = COALESCE(paycrm_link_first_sent, %s)
                    WHERE id = ANY(%s)""",
                fields.Datetime.now(),
                self.ids,
            )
        )
        self.invalidate_recordset(["paycrm_link_sent_count", "paycrm_link_first_sent"])

    def _paycrm_note_link_opened(self):
        """The customer opened the stable link (first time only: no row lock
        on later clicks)."""
        self.ensure_one()
        if self.paycrm_link_first_opened:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE account_move
                      SET paycrm_link_first_opened = %s
                    WHERE id = %s AND paycrm_link_first_opened IS NULL""",
                fields.Datetime.now(),
                self.id,
            )
        )
        self.invalidate_recordset(["paycrm_link_first_opened"])

    def _paycrm_note_link_failure(self, body):
        """Count a customer's failed attempt; note it in the chatter at most
        once an hour per invoice.

        Called from public routes: a visitor repeating a failing click must not
        add a chatter line each time (the caller's warning log keeps every
        one). Raw SQL, as the funnel counters: the ORM write of account.move
        runs its accounting checks for a counter.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m
                      SET paycrm_link_failure_count =
                              COALESCE(m.paycrm_link_failure_count, 0) + 1,
                          paycrm_link_failure_noted = CASE
                              WHEN old.noted IS NULL OR old.noted <= %(since)s
                              THEN %(now)s ELSE old.noted END
                     FROM (SELECT id, paycrm_link_failure_noted AS noted
                             FROM account_move WHERE id = %(id)s FOR UPDATE) old
                    WHERE m.id = old.id
                RETURNING old.noted, m.paycrm_link_failure_count""",
                id=self.id,
                now=now,
                since=now - timedelta(seconds=const.LINK_FAILURE_NOTE_SECONDS),
            )
        )
        noted, count = self.env.cr.fetchone()
        self.invalidate_recordset(
            ["paycrm_link_failure_count", "paycrm_link_failure_noted"]
        )
        if noted and noted > now - timedelta(seconds=const.LINK_FAILURE_NOTE_SECONDS):
            return
        self.message_post(
            body=self.env._(
                "%(failure)s Failed attempts on this link so far: %(count)s; more "
                "within the hour are counted on the invoice, not noted.",
                failure=body,
                count=count,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _paycrm_is_payable(self):
        self.ensure_one()
        gateway = self._paycrm_gateway()
        return bool(
            self.move_type == "out_invoice"
            and self.state == "posted"
            and gateway
            and gateway.state != "disabled"
            and self.currency_id.compare_amounts(self.amount_residual, 0) > 0
        )

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
            render_context["paycrm_pay_url"] = move._paycrm_pay_url()
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
                move._paycrm_note_link_sent()
        return result

    # ---------------------------------------------------------------- sending

    def _paycrm_send_link(self, channel="email", amount=None, message=None):
        """Send the stable link of each invoice by ``channel``; no gateway call.

        Emails go out as one batch-rendered mailing (one logged message per
        invoice in its chatter); SMS through Odoo's ``sms`` module to the E.164
        mobile. A channel a customer cannot receive is skipped with a note on
        the invoice. Returns a ``PaycrmSendOutcome``: what was really sent,
        and why the rest was not. ``amount`` (a deposit) needs one invoice.
        """
        unpayable = self.filtered(lambda m: not m._paycrm_is_payable())
        if unpayable:
            raise UserError(
                _(
                    "%(invoices)s has no payment link: it must be a posted customer "
                    "invoice with an amount due and an enabled payment gateway.",
                    invoices=", ".join(unpayable.mapped("display_name")),
                )
            )
        if amount is not None:
            self.ensure_one()
        skipped = {}
        sent = self.browse()
        if channel in ("email", "email_sms"):
            no_email = self.filtered(lambda m: not m.partner_id.email)
            for move in no_email:
                skipped[move] = [
                    _(
                        "Email skipped: %(partner)s has no email address.",
                        partner=move.partner_id.display_name,
                    )
                ]
            (self - no_email)._paycrm_mail_links(amount, message)
            sent |= self - no_email
        if channel in ("sms", "email_sms"):
            for move in self:
                partner = move.partner_id
                if partner.paycrm_mobile_e164:
                    move._message_sms(
                        move._paycrm_sms_body(move._paycrm_pay_url(amount), message),
                        partner_ids=partner.ids,
                        sms_pid_to_number={partner.id: partner.paycrm_mobile_e164},
                    )
                    sent |= move
                    continue
                skipped.setdefault(move, []).append(partner._paycrm_sms_skip_reason())
        # sudo: counting a send needs no right on the invoice fields.
        sent.sudo()._paycrm_note_link_sent()
        for move, notes in skipped.items():
            move.message_post(body=" ".join(notes), subtype_xmlid="mail.mt_note")
        return PaycrmSendOutcome(sent=sent, skipped=skipped)

    def _paycrm_mail_links(self, amount=None, message=None):
        if not self:
            return
        template = self.env.ref("paycrm_connector.mail_template_paycrm_payment_link")
        context = {"paycrm_link_message": message or ""}
        if len(self) == 1:
            context["paycrm_link_url"] = self._paycrm_pay_url(amount)
        else:
            # Tokens first, in one go: the template reads paycrm_link_url.
            for move in self.filtered(lambda m: not m.access_token):
                move._portal_ensure_token()
        composer = (
            self.env["mail.compose.message"]
            .with_context(**context)
            .create(
                {
                    "composition_mode": "mass_mail",
                    "model": self._name,
                    "res_ids": self.ids,
                    "template_id": template.id,
                    "subtype_id": self.env.ref("mail.mt_comment").id,
                    "auto_delete_keep_log": True,
                }
            )
        )
        composer._action_send_mail()

    def _paycrm_sms_body(self, url, message=None):
        body = _(
            "%(company)s: invoice %(invoice)s, %(amount)s due. Pay online: %(url)s",
            company=self.company_id.name,
            invoice=self.name,
            amount=format_amount(self.env, self.amount_residual, self.currency_id),
            url=url,
        )
        return f"{message}\n{body}" if message else body

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

    def _paycrm_action_send_link(self, channel="email"):
        """Server action entry point (Automation Rules): send, skipping what
        cannot be paid online instead of failing the whole batch."""
        self.filtered(lambda m: m._paycrm_is_payable())._paycrm_send_link(channel)
        return True

    def _paycrm_action_give_links(self):
        """Server action entry point: give these invoices their payment link
        (posted before installation or while no gateway was enabled)."""
        # sudo: writes only the gateway and portal token of open invoices.
        payable = self.env["paycrm.link"].sudo()._paycrm_give_invoices_links(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Payment links"),
                "message": _(
                    "%(count)s of %(total)s invoice(s) can be paid online through "
                    "their payment link.",
                    count=len(payable),
                    total=len(self),
                ),
                "type": "success" if len(payable) == len(self) else "warning",
            },
        }

    def _paycrm_action_create_link(self):
        """Server action entry point: open a hosted session now (for staff who
        want the gateway URL itself, e.g. for a phone call)."""
        link_model = self.env["paycrm.link"]
        links = link_model
        for move in self:
            try:
                links |= link_model._paycrm_checkout_for(move)[0]
            except GatewayError as exc:
                raise UserError(
                    _(
                        "%(gateway)s could not open a checkout for %(invoice)s: "
                        "%(reason)s",
                        gateway=move._paycrm_gateway().name,
                        invoice=move.display_name,
                        reason=str(exc),
                    )
                ) from exc
        return links

    # ------------------------------------------------------------- lifecycle

    def button_cancel(self):
        result = super().button_cancel()
        # sudo: cancelling needs no right on the technical link table.
        self.env["paycrm.link"].sudo()._paycrm_queue_finished_invoices(self)
        self._paycrm_touch_profiles(self)
        return result
