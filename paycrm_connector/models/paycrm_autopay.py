"""Auto-pay: charge each due invoice of an auto-pay customer on its saved
payment method, once per attempt.

The daily run (and the *Charge Saved Method* button) works in two steps:

1. **claim** — for each invoice that may be charged now, the next attempt row
   is inserted (``INSERT ... ON CONFLICT (invoice, attempt) DO NOTHING``) with
   its idempotency key ``paycrm-autopay-<db>-<invoice>-<attempt>``; the cron
   commits the claims before any gateway call, so two runs at once insert one
   row per attempt and a crash leaves the row to repair;
2. **send** — rows waiting for their call (``draft``, or ``sent`` after a
   timeout) are locked ``FOR UPDATE SKIP LOCKED`` (the shared queue), the
   saved method is charged off-session with the row's key, and the answer is
   recorded (the cron commits each). A row whose answer was lost is sent
   again with the same key: the gateway replays its first answer.

The money itself is booked by the payment's webhook, as any payment; its
event updates the attempt (``paycrm.autopay.attempt._paycrm_on_event``).
Outcomes: succeeded / processing wait for that webhook; declined waits for
the company's retry schedule, after the last retry reminders take over;
``requires_action`` sends the customer the stable link ("your bank asks you
to confirm this payment"); an expired or removed method gets the salesperson
an activity and the customer the link.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .. import const
from ..gateways import ChargeRequest, GatewayError, GatewayUnreachable
from .paycrm_autopay_attempt import BUSY_STATES, META_ATTEMPT

_logger = logging.getLogger(__name__)

# Decline codes that say the method itself is unusable (no retry helps).
METHOD_GONE_CODES = (
    const.DECLINE_METHOD_GONE,
    "expired_card",
    "payment_method_unactivated",
    "resource_missing",
    "payment_method_detached",
)
# Invoices claimed (and sent) per committed step of the daily run.
CLAIM_BATCH = 200


def parse_retry_days(text):
    """The retry schedule ``"1,3,7"`` as a tuple of whole days (each > 0,
    increasing); ``ValueError`` saying what is wrong."""
    text = (text or "").strip()
    if not text:
        return ()
    days = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1 or int(part) > 365:
            raise ValueError(part)
        days.append(int(part))
    if days != sorted(set(days)):
        raise ValueError(text)
    return tuple(days)


@dataclass
class AutopayRun:
    """What a run did: invoices claimed, attempts sent, and per skipped
    invoice why it was not charged."""

    claimed: int = 0
    sent: int = 0
    skipped: dict = field(default_factory=dict)  # invoice id -> reason

    def reasons(self):
        """{reason: how many invoices} of the skipped ones."""
        counts = {}
        for reason in self.skipped.values():
            counts[reason] = counts.get(reason, 0) + 1
        return counts


class PaycrmAutopay(models.AbstractModel):
    _name = "paycrm.autopay"
    _description = "Auto-pay Charges"

    # ------------------------------------------------------------------ run

    @api.model
    def _cron_paycrm_autopay(self, limit=5000):
        run = self.with_context(paycrm_commit=True)._paycrm_autopay_run(limit=limit)
        _logger.info(
            "paycrm auto-pay: %s claimed, %s sent, skipped %s",
            run.claimed,
            run.sent,
            run.reasons(),
        )
        self.env["ir.cron"]._notify_progress(done=run.sent, remaining=0)
        return run

    @api.model
    def _paycrm_autopay_run(self, today=None, limit=5000):
        """Claim and charge the due invoices of auto-pay customers."""
        today = today or fields.Date.context_today(self)
        # sudo: a system job (the cron) charging for every company.
        model = self.sudo()
        attempts = self.env["paycrm.autopay.attempt"].sudo()
        commit = attempts._paycrm_queue_commits()
        run = AutopayRun()
        candidates = model._paycrm_autopay_candidates(today, limit)
        for start in range(0, len(candidates), CLAIM_BATCH):
            batch = candidates[start : start + CLAIM_BATCH]
            plans = []
            for invoice in batch:
                plan, reason = model._paycrm_autopay_plan(invoice, today)
                if reason:
                    run.skipped[invoice.id] = reason
                elif plan:
                    plans.append(plan)
            run.claimed += len(model._paycrm_autopay_claim(plans))
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        run.sent = model._paycrm_autopay_send_ready(limit)
        return run

    @api.model
    def _paycrm_autopay_candidates(self, today, limit=None):
        """Posted, open customer invoices of auto-pay customers due by
        ``today``; what else keeps one from being charged is decided per
        invoice (``_paycrm_autopay_plan``)."""
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<=", today),
                ("commercial_partner_id.paycrm_autopay", "=", True),
            ],
            order="invoice_date_due, id",
            limit=limit,
        )

    # ------------------------------------------------------- what to charge

    @api.model
    def _paycrm_autopay_method(self, invoice):
        """The saved method auto-pay charges for ``invoice``: its customer's
        chosen one (archived when it was removed: see
        ``_paycrm_autopay_unusable``)."""
        return invoice.commercial_partner_id.paycrm_autopay_method_id

    @api.model
    def _paycrm_autopay_unusable(self, method, today):
        """Why ``method`` can no longer be charged (removed, expired), or
        False."""
        if not method.active:
            return _("%(method)s was removed.", method=method.display_name)
        if method.exp_year and (method.exp_year, method.exp_month) < (
            today.year,
            today.month,
        ):
            return _("%(method)s has expired.", method=method.display_name)
        return False

    @api.model
    def _paycrm_autopay_refusal(self, invoice, method, today):
        """Why ``invoice`` cannot be charged on ``method`` now (a translated
        sentence), or False; nothing is sent to the gateway when there is one.
        An unusable method (removed, expired) is not refused here."""
        currency = invoice.currency_id
        if invoice.move_type != "out_invoice":
            return _("Only customer invoices are charged.")
        if invoice.state != "posted":
            return _("The invoice is not posted (or is cancelled).")
        if currency.compare_amounts(invoice.amount_residual, 0) <= 0:
            return _("Nothing is due on the invoice.")
        if invoice.paycrm_disputed:
            return _("The invoice is disputed at the gateway.")
        partner = invoice.commercial_partner_id
        if partner.paycrm_reminder_hold:
            return _("The customer is on hold.")
        if invoice.paycrm_promise_date and today <= invoice.paycrm_promise_date:
            return _(
                "The customer promised to pay by %(date)s.",
                date=fields.Date.to_string(invoice.paycrm_promise_date),
            )
        if invoice._paycrm_is_payment_pending():
            return _("A payment of the invoice is pending (a debit in flight).")
        if not method:
            return _("The customer has no saved payment method chosen for auto-pay.")
        if method.partner_id.commercial_partner_id != partner:
            return _("The payment method belongs to another customer.")
        gateway = method.gateway_id
        if not gateway or gateway.state == "disabled":
            return _("The payment method's gateway is disabled.")
        if gateway.company_id != invoice.company_id:
            return _("The payment method's gateway belongs to another company.")
        if not gateway._paycrm_adapter().saves_methods:
            return _(
                "The gateway %(gateway)s cannot charge saved methods.",
                gateway=gateway.name,
            )
        wanted = const.AUTOPAY_METHOD_CURRENCIES.get(method.method_type)
        if wanted and currency.name not in wanted:
            return _(
                "%(method)s can only be charged in %(wanted)s, the invoice is in "
                "%(currency)s.",
                method=method.display_name,
                wanted=", ".join(wanted),
                currency=currency.name,
            )
        return False

    @api.model
    def _paycrm_autopay_plan(self, invoice, today, manual=False, method=None):
        """``(values of the next attempt row, None)`` when ``invoice`` may be
        charged now, else ``(None, reason)``; ``(None, None)``: waiting for
        a retry date, no reason to report.

        An unusable method (removed, expired) is planned as an attempt in
        error, never sent: it records why once, the salesperson gets an
        activity and the customer the link, then reminders take over.
        """
        if method is None:
            method = self._paycrm_autopay_method(invoice)
        reason = self._paycrm_autopay_refusal(invoice, method, today)
        if reason:
            return None, reason
        unusable = self._paycrm_autopay_unusable(method, today)
        if unusable and manual:
            return None, unusable
        last = self.env["paycrm.autopay.attempt"].search(
            [("invoice_id", "=", invoice.id)], order="attempt desc", limit=1
        )
        number = (last.attempt or 0) + 1
        if last and last.state in BUSY_STATES:
            states = dict(const.AUTOPAY_ATTEMPT_STATES)
            return None, _(
                "Attempt %(n)s is %(state)s.", n=last.attempt, state=states[last.state]
            )
        if last and not manual:
            if last.decline_code in METHOD_GONE_CODES and last.method_id == method:
                return None, _("The saved method is unusable: reminders chase it.")
            # Declined or given up: only on its retry date, once it has one.
            if not unusable and not last.next_retry:
                return None, _("Retries are over: reminders chase the invoice.")
            if not unusable and last.next_retry > today:
                return None, None
        vals = {
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "method_id": method.id,
            "gateway_id": method.gateway_id.id,
            "attempt": number,
            "amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "idempotency_key": self._paycrm_autopay_key(invoice, number),
            "manual": manual,
            "state": "draft",
        }
        if unusable:
            vals.update(
                state="error",
                decline_code="payment_method_detached"
                if not method.active
                else "expired_card",
                message=unusable,
            )
        return vals, None

    @api.model
    def _paycrm_autopay_key(self, invoice, number):
        return f"paycrm-autopay-{self.env.cr.dbname}-{invoice.id}-{number}"

    @api.model
    def _paycrm_autopay_claim(self, plans):
        """Insert the attempt rows of ``plans``; return those inserted. A row
        another run inserted first (the same invoice and attempt) wins: the
        conflict inserts nothing and this run leaves that attempt alone."""
        if not plans:
            return self.env["paycrm.autopay.attempt"]
        attempts = self.env["paycrm.autopay.attempt"].sudo()
        columns = list(dict.fromkeys(column for plan in plans for column in plan))
        fields_ = attempts._fields
        now = fields.Datetime.now()
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s)",
                SQL(", ").join(
                    fields_[column].convert_to_column_insert(
                        plan.get(column, False), attempts
                    )
                    for column in columns
                ),
                # company_id: the invoice's (a stored related field).
                self.env["account.move"].browse(plan["invoice_id"]).company_id.id,
                self.env.uid,
                self.env.uid,
                now,
                now,
            )
            for plan in plans
        )
        query = SQL(
            """INSERT INTO paycrm_autopay_attempt
                   (%s, company_id, create_uid, write_uid, create_date,
                    write_date)
               VALUES %s
               ON CONFLICT (invoice_id, attempt) DO NOTHING
               RETURNING id""",
            SQL(", ").join(SQL.identifier(column) for column in columns),
            values,
        )
        try:
            with self.env.cr.savepoint():
                # Another run's uncommitted claim of the same attempt makes
                # this wait for it; once committed, outside this snapshot, it
                # fails to serialise: that run has the attempt.
                self.env.cr.execute(query, log_exceptions=False)
                rows = self.env.cr.fetchall()
        except psycopg2.errors.SerializationFailure:
            _logger.info("paycrm auto-pay: attempts claimed by another run meanwhile")
            return attempts.browse()
        claimed = attempts.browse(row[0] for row in rows)
        for attempt in claimed:
            if attempt.state == "error":
                # Never sent: the method is unusable.
                self._paycrm_autopay_note(attempt, "error", attempt.message)
                self._paycrm_autopay_method_gone(attempt)
                continue
            attempt.invoice_id._message_log(
                body=_(
                    "Auto-pay: charging %(amount)s on %(method)s (attempt %(n)s).",
                    amount=format_amount(self.env, attempt.amount, attempt.currency_id),
                    method=attempt.method_id.display_name,
                    n=attempt.attempt,
                )
            )
        return claimed

    # ---------------------------------------------------------------- send

    @api.model
    def _paycrm_autopay_send_ready(self, limit=5000, domain=()):
        """Send the claimed attempts waiting for their call (locked one by one,
        committed each in the cron); return how many were worked."""
        attempts = self.env["paycrm.autopay.attempt"].sudo()
        done = []

        def handle(claimed):
            for attempt in claimed:
                self._paycrm_autopay_send(attempt)
                done.append(attempt.id)

        if domain:
            # The button: its own rows only, locked as the queue locks them.
            claimed = attempts._paycrm_queue_claim(limit, force=True, domain=domain)
            handle(claimed)
            return len(done)
        attempts._paycrm_queue_process(limit, handle, size=1)
        return len(done)

    @api.model
    def _paycrm_autopay_send(self, attempt):
        """Charge ``attempt`` (locked by the caller) and record the answer."""
        invoice = attempt.invoice_id
        currency = attempt.currency_id
        if invoice.state != "posted" or (
            currency.compare_amounts(invoice.amount_residual, attempt.amount) < 0
        ):
            # A repair whose invoice changed since the claim (the first
            # call's answer was lost): the same key replays that answer only
            # for the same request; never send an amount no longer owed.
            self._paycrm_autopay_record(
                attempt,
                "error",
                message=_(
                    "Not sent: the invoice changed since the charge was claimed "
                    "(now %(residual)s due).",
                    residual=format_amount(self.env, invoice.amount_residual, currency),
                ),
            )
            return
        method, gateway = attempt.method_id, attempt.gateway_id
        adapter = gateway._paycrm_adapter()
        amount_minor = self.env["paycrm.link"]._paycrm_minor(
            currency, attempt.amount, gateway
        )
        request = ChargeRequest(
            invoice_id=invoice.id,
            invoice_name=invoice.name,
            amount_minor=amount_minor,
            currency=currency.name,
            customer_ref=method.customer_ref or "",
            method_ref=method.method_ref,
            idempotency_key=attempt.idempotency_key,
            description=invoice.name,
            metadata={
                const.META_INVOICE_ID: str(invoice.id),
                const.META_INVOICE_NAME: invoice.name,
                const.META_COMPANY_ID: str(invoice.company_id.id),
                const.META_DB: self.env.cr.dbname,
                META_ATTEMPT: str(attempt.id),
            },
        )
        attempt.write({"sent_at": fields.Datetime.now()})
        try:
            result = adapter.charge_saved_method(request)
        except GatewayUnreachable as exc:
            # No answer: the charge may or may not exist. Sent again later
            # with the same key (the queue's back-off); given up after
            # MAX_SENDS tries, when reminders take over.
            attempt.write({"state": "sent"})
            if not attempt._paycrm_queue_retry(str(exc)):
                self._paycrm_autopay_note(attempt, "error", str(exc))
            return
        except GatewayError as exc:
            self._paycrm_autopay_record(attempt, "error", message=str(exc))
            return
        state = {
            "succeeded": "succeeded",
            "processing": "processing",
            "requires_action": "action_required",
            "declined": "declined",
        }.get(result.status, "error")
        self._paycrm_autopay_record(
            attempt,
            state,
            payment_ref=result.payment_ref,
            decline_code=result.decline_code,
            message=result.message,
        )
        if result.webhook:
            # The demo gateway has no servers: its event enters the intake
            # in process, as its checkout page's do.
            payload, headers = result.webhook
            self.env["paycrm.event"]._paycrm_intake(gateway, payload, headers)

    # -------------------------------------------------------------- outcome

    @api.model
    def _paycrm_autopay_record(
        self,
        attempt,
        state,
        payment_ref="",
        decline_code="",
        message="",
        by_webhook=False,
    ):
        """Write what became of ``attempt`` and what follows from it."""
        vals = {"state": state, "next_send": False}
        if payment_ref:
            vals["payment_ref"] = payment_ref
        if decline_code:
            vals["decline_code"] = decline_code
        if message:
            vals["message"] = str(message)[:500]
        gone = state == "declined" and (decline_code or "") in METHOD_GONE_CODES
        if state == "declined" and not gone:
            vals["next_retry"] = self._paycrm_autopay_next_retry(attempt)
        attempt.write(vals)
        self._paycrm_autopay_note(attempt, state, message, by_webhook)
        if state == "action_required":
            self._paycrm_autopay_ask_customer(
                attempt, _("Your bank asks you to confirm this payment.")
            )
        elif gone:
            self._paycrm_autopay_method_gone(attempt)

    @api.model
    def _paycrm_autopay_retry_days(self, company):
        try:
            return parse_retry_days(company.paycrm_autopay_retry_days)
        except ValueError:
            return parse_retry_days(const.AUTOPAY_RETRY_DAYS)

    @api.model
    def _paycrm_autopay_next_retry(self, attempt):
        """When a declined ``attempt`` is tried again: the n-th day of the
        company's schedule after it (its n-th decline), or never (False)."""
        days = self._paycrm_autopay_retry_days(attempt.company_id)
        declined = self.env["paycrm.autopay.attempt"].search_count(
            [
                ("invoice_id", "=", attempt.invoice_id.id),
                ("state", "=", "declined"),
                ("id", "!=", attempt.id),
            ]
        )
        if declined >= len(days):
            return False
        return fields.Date.context_today(self) + timedelta(days=days[declined])

    @api.model
    def _paycrm_autopay_note(self, attempt, state, message="", by_webhook=False):
        """The invoice's chatter line for an attempt's outcome."""
        amount = format_amount(self.env, attempt.amount, attempt.currency_id)
        method = attempt.method_id.display_name
        n = attempt.attempt
        if state == "succeeded":
            body = _(
                "Auto-pay: %(amount)s charged on %(method)s (attempt %(n)s).",
                amount=amount,
                method=method,
                n=n,
            )
        elif state == "processing":
            body = _(
                "Auto-pay: %(amount)s debit on %(method)s is processing (attempt "
                "%(n)s); the invoice is paid once the bank confirms it.",
                amount=amount,
                method=method,
                n=n,
            )
        elif state == "action_required":
            body = _(
                "Auto-pay: the customer's bank asks them to confirm the payment of "
                "%(amount)s (attempt %(n)s); the payment link was sent to them.",
                amount=amount,
                n=n,
            )
        elif state == "declined":
            if attempt.next_retry:
                follow = _(
                    "Next try on %(date)s.",
                    date=fields.Date.to_string(attempt.next_retry),
                )
            else:
                follow = _("No more retries: payment reminders take over.")
            body = _(
                "Auto-pay: %(amount)s on %(method)s declined (attempt %(n)s, "
                "%(code)s: %(message)s). %(follow)s",
                amount=amount,
                method=method,
                n=n,
                code=attempt.decline_code or "-",
                message=message or "-",
                follow=follow,
            )
        else:
            body = _(
                "Auto-pay: charging %(amount)s on %(method)s failed (attempt %(n)s): "
                "%(message)s. Payment reminders take over.",
                amount=amount,
                method=method,
                n=n,
                message=message or "-",
            )
        if by_webhook:
            body = _("%(body)s (reported by the gateway)", body=body)
        attempt.invoice_id._message_log(body=body)

    @api.model
    def _paycrm_autopay_ask_customer(self, attempt, message):
        """Send the invoice's stable link, by email and, when the customer
        takes reminders by SMS, by SMS too."""
        invoice = attempt.invoice_id
        if not invoice._paycrm_is_payable():
            return
        channel = (
            "email_sms"
            if invoice.commercial_partner_id.paycrm_reminder_channel in ("sms", "both")
            else "email"
        )
        self.env["paycrm.link.sender"]._paycrm_send_link(
            invoice, channel, message=message
        )

    @api.model
    def _paycrm_autopay_method_gone(self, attempt):
        """The method can no longer be charged: the salesperson gets an
        activity, the customer the link."""
        invoice = attempt.invoice_id
        invoice.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Auto-pay method unusable"),
            note=_(
                "%(method)s of %(customer)s could not be charged (%(code)s): ask "
                "the customer for a new payment method.",
                method=attempt.method_id.display_name,
                customer=attempt.partner_id.display_name,
                code=attempt.decline_code or "-",
            ),
            user_id=invoice.invoice_user_id.id or self.env.user.id,
        )
        self._paycrm_autopay_ask_customer(
            attempt,
            _(
                "We could not charge your saved payment method: please pay online "
                "or save a new method."
            ),
        )

    @api.model
    def _paycrm_autopay_expected(self, invoice):
        """Whether auto-pay will still collect ``invoice`` (reminders wait):
        its customer is on auto-pay with a method, and no attempt failed for
        good (an attempt under way, or a declined one with a retry to come)."""
        partner = invoice.commercial_partner_id
        method = self._paycrm_autopay_method(invoice)
        if not partner.paycrm_autopay or not method:
            return False
        if self._paycrm_autopay_unusable(method, fields.Date.context_today(self)):
            return False
        last = self.env["paycrm.autopay.attempt"].search(
            [("invoice_id", "=", invoice.id)], order="attempt desc", limit=1
        )
        if not last:
            return True
        if last.state == "declined":
            return bool(last.next_retry)
        return last.state in ("draft", "sent", "succeeded", "processing")

    # --------------------------------------------------------------- button

    @api.model
    def _paycrm_autopay_charge_now(self, invoices, method=None):
        """Charge ``invoices`` now (the button): refuse with a UserError saying
        why before anything is sent, else claim and send one attempt each;
        return the attempts."""
        today = fields.Date.context_today(self)
        plans, refusals = [], []
        for invoice in invoices:
            chosen = method if method else self._paycrm_autopay_method(invoice)
            plan, reason = self._paycrm_autopay_plan(
                invoice, today, manual=True, method=chosen
            )
            if not plan:
                refusals.append(
                    _(
                        "%(invoice)s: %(reason)s",
                        invoice=invoice.display_name,
                        reason=reason,
                    )
                )
            else:
                plans.append(plan)
        if refusals:
            raise UserError(
                _("Nothing was charged.\n%(reasons)s", reasons="\n".join(refusals))
            )
        # sudo: the group Charge saved payment methods charges, whatever the
        # user's rights on the attempt table.
        claimed = self.sudo()._paycrm_autopay_claim(plans)
        if len(claimed) != len(plans):
            raise UserError(
                _("Another charge of these invoices started meanwhile: try again.")
            )
        self.sudo()._paycrm_autopay_send_ready(
            len(claimed), domain=[("id", "in", claimed.ids)]
        )
        return claimed
