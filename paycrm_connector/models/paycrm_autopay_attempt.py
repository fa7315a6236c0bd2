"""One try at charging an invoice's saved payment method (auto-pay).

A row is the claim: it is inserted (and, in the cron, committed) before the
gateway is called, with the idempotency key its call uses. ``UNIQUE(invoice,
attempt)`` makes two runs that plan the same try insert one row; a row is
sent by whoever holds its lock (``FOR UPDATE SKIP LOCKED``, the shared queue);
a row still ``draft`` or ``sent`` (a crash or a timeout between the call and
its record) is sent again with the same key, and the gateway replays its first
answer instead of charging twice.
"""

from odoo import api, fields, models

from .. import const

# The metadata key naming the attempt on the gateway's payment.
META_ATTEMPT = "paycrm_autopay_attempt"
# Kinds whose event tells what became of an attempt's payment.
ATTEMPT_KINDS = {
    "payment_succeeded": "succeeded",
    "payment_pending": "processing",
    "payment_failed": "declined",
}
# States no later event changes (a processing debit still can).
FINAL_STATES = ("succeeded", "declined", "error")
# An attempt in these states blocks another try of its invoice.
BUSY_STATES = ("draft", "sent", "succeeded", "processing", "action_required")
# Sent again by the queue (same key): the call's answer was never recorded.
RESEND_STATES = ("draft", "sent")
# Tries of one unanswered call (gateway unreachable) before it is given up.
MAX_SENDS = 8


class PaycrmAutopayAttempt(models.Model):
    _name = "paycrm.autopay.attempt"
    _inherit = ["paycrm.queue.mixin"]
    _description = "Auto-pay Attempt"
    _order = "id desc"
    _check_company_auto = True

    _paycrm_queue_cron = "paycrm_connector.ir_cron_paycrm_autopay"
    _paycrm_queue_attempts_field = "send_count"
    _paycrm_queue_next_try_field = "next_send"
    _paycrm_queue_error_field = "last_error"
    _paycrm_queue_retry_base = 60

    invoice_id = fields.Many2one(
        "account.move",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        related="invoice_id.company_id", store=True, index=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    method_id = fields.Many2one(
        "paycrm.payment.method", string="Payment Method", readonly=True
    )
    gateway_id = fields.Many2one("paycrm.gateway", readonly=True)
    attempt = fields.Integer(
        readonly=True, help="1 for the charge on the due date, then each retry."
    )
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    idempotency_key = fields.Char(readonly=True, copy=False)
    state = fields.Selection(
        const.AUTOPAY_ATTEMPT_STATES, default="draft", required=True, readonly=True
    )
    manual = fields.Boolean(
        string="Charged by Staff",
        readonly=True,
        help="Started with the Charge Saved Method button, not the daily run.",
    )
    payment_ref = fields.Char(string="Payment Reference", readonly=True)
    decline_code = fields.Char(readonly=True)
    message = fields.Char(readonly=True, help="The gateway's own words.")
    next_retry = fields.Date(
        readonly=True,
        help="The daily run charges again from this date (declined attempts).",
    )
    sent_at = fields.Datetime(readonly=True)
    send_count = fields.Integer(string="Sends", readonly=True)
    next_send = fields.Datetime(readonly=True)
    last_error = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "invoice_attempt_uniq",
            "UNIQUE(invoice_id, attempt)",
            "An invoice is charged once per attempt.",
        ),
    ]

    # ------------------------------------------------------------ the queue

    @api.model
    def _paycrm_queue_ready_domain(self):
        return [("state", "in", RESEND_STATES)]

    def _paycrm_queue_max_attempts(self):
        return MAX_SENDS

    def _paycrm_queue_failed_vals(self):
        return {"state": "error"}

    # ------------------------------------------------------------ webhooks

    @api.model
    def _paycrm_on_event(self, event, norm):
        """What ``norm`` (a normalised payment event being booked) tells about
        an auto-pay attempt: its state follows, with a chatter line. Called
        each time the event is booked (idempotent); nothing for other
        payments."""
        state = ATTEMPT_KINDS.get(norm.kind)
        if not state:
            return self.browse()
        attempt = self._paycrm_attempt_of(event, norm)
        decline = norm.decline_code or ""
        if state == "declined" and (
            decline == "authentication_required" or attempt.state == "action_required"
        ):
            # The bank wants the customer: the link asks them, no retry.
            state = "action_required"
        if not attempt or attempt.state == state or attempt.state in FINAL_STATES:
            return attempt
        self.env["paycrm.autopay"]._paycrm_autopay_record(
            attempt,
            state,
            payment_ref=norm.payment_ref or norm.object_ref,
            decline_code=decline,
            message=norm.status or "",
            by_webhook=True,
        )
        return attempt

    @api.model
    def _paycrm_attempt_of(self, event, norm):
        meta = norm.extra.get("metadata") or {}
        if norm.db and norm.db != self.env.cr.dbname:
            return self.browse()
        # sudo: the event processor is a system job.
        attempts = self.sudo()
        attempt_id = meta.get(META_ATTEMPT)
        if attempt_id and str(attempt_id).isdigit():
            attempt = attempts.browse(int(attempt_id)).exists()
            if attempt and attempt.gateway_id == event.gateway_id:
                return attempt
        if norm.payment_ref:
            return attempts.search(
                [
                    ("gateway_id", "=", event.gateway_id.id),
                    ("payment_ref", "=", norm.payment_ref),
                ],
                limit=1,
            )
        return attempts.browse()


class PaycrmBooking(models.AbstractModel):
    """Payment events of an auto-pay charge also update its attempt."""

    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    def _paycrm_book_payment(self, event, norm, adapter):
        self.env["paycrm.autopay.attempt"]._paycrm_on_event(event, norm)
        return super()._paycrm_book_payment(event, norm, adapter)

    def _paycrm_book_payment_pending(self, event, norm, adapter):
        self.env["paycrm.autopay.attempt"]._paycrm_on_event(event, norm)
        return super()._paycrm_book_payment_pending(event, norm, adapter)

    def _paycrm_book_payment_failed(self, event, norm, adapter):
        self.env["paycrm.autopay.attempt"]._paycrm_on_event(event, norm)
        return super()._paycrm_book_payment_failed(event, norm, adapter)
