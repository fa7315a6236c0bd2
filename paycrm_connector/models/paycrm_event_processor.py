"""The event queue: claims ready events in batches and books them.

Claim, attempts, back-off and error classification are the shared queue's
(paycrm_queue_mixin.py); what is the event's own is here: which events are
ready, how many tries their gateway allows, and what a claimed event becomes.
"""

import logging

import psycopg2

from odoo import _, api, models
from odoo.exceptions import UserError

from .. import const
from ..gateways import GatewayError, PayloadError
from .paycrm_event import PROCESSOR_CRON, PaycrmRetry
from .paycrm_event_verify import PaycrmVerifyPending

_logger = logging.getLogger(__name__)

# Cron jobs running the event processor (see data/ir_cron_data.xml).
PROCESSOR_CRONS = (
    PROCESSOR_CRON,
    "paycrm_connector.ir_cron_paycrm_process_events_helper",
)
# What booking an event may raise on purpose; anything else is a crash.
EXPECTED_ERRORS = (PaycrmRetry, GatewayError, UserError, PayloadError, psycopg2.Error)


class PaycrmEvent(models.Model):
    _name = "paycrm.event"
    # The event's own queue rules; the record and its intake: paycrm_event.py.
    _inherit = [  # pylint: disable=consider-merging-classes-inherited
        "paycrm.event",
        "paycrm.queue.mixin",
    ]

    _paycrm_queue_cron = PROCESSOR_CRON
    _paycrm_queue_retry_base = const.EVENT_RETRY_BASE_SECONDS
    _paycrm_queue_retry_max = const.EVENT_RETRY_MAX_SECONDS

    @api.model
    def _cron_paycrm_process_events(self, limit=200):
        processor = self.with_context(paycrm_commit=True)
        done = processor._paycrm_process_batch(limit)
        remaining = processor.sudo()._paycrm_queue_ready_count()
        if done and remaining:
            # A backlog: wake the other processor job, for another cron worker.
            for xmlid in PROCESSOR_CRONS:
                cron = self.env.ref(xmlid, raise_if_not_found=False)
                if cron and cron.id != self.env.context.get("cron_id"):
                    cron.sudo()._trigger()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _paycrm_queue_ready_domain(self):
        # A disabled gateway's events wait until it is enabled again.
        return [("state", "=", "received"), ("gateway_id.state", "!=", "disabled")]

    def _paycrm_queue_max_attempts(self):
        # Event Retries, tuned per gateway.
        return max(self.gateway_id.event_max_attempts, 1)

    def _paycrm_queue_failed_vals(self):
        return {"state": "failed"}

    def _paycrm_queue_writer(self):
        return self._paycrm_quiet()

    @api.model
    def _paycrm_queue_is_transient(self, exc):
        # Its payment is not booked yet (PaycrmRetry); and a crash: whatever
        # the bug or outage, fixing it must find the event still retried.
        if isinstance(exc, PaycrmRetry) or not isinstance(exc, EXPECTED_ERRORS):
            return True
        return super()._paycrm_queue_is_transient(exc)

    @api.model
    def _paycrm_queue_error_message(self, exc):
        if isinstance(exc, PayloadError):
            # Stored before the intake checked these fields: it never will be
            # booked, and retrying changes nothing.
            return self.env._(
                "Not a valid event: %(field)s %(reason)s",
                field=exc.field,
                reason=self.env._(exc.message),
            )
        if not isinstance(exc, EXPECTED_ERRORS):
            return _("Unexpected error: %(error)s", error=exc)
        return super()._paycrm_queue_error_message(exc)

    @api.model
    def _paycrm_batch_size(self):
        # sudo: a technical setting read by the processor job.
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(const.EVENT_BATCH_SIZE_PARAM, const.EVENT_BATCH_SIZE)
        )
        try:
            return max(int(value), 1)
        except ValueError:
            return const.EVENT_BATCH_SIZE

    @api.model
    def _paycrm_process_batch(self, limit=100, force=False):
        """Process up to ``limit`` ready events; return how many were handled.

        Events are claimed ``batch size`` at a time (so several workers share
        the queue), each applied inside its own savepoint (a bad event rolls
        back alone, its error is written outside it), and each claim committed
        once: a crash loses a whole claim's work and its events together, and
        they are simply processed again. ``force`` ignores the back-off
        schedule (reprocessing, tests).
        """
        # sudo: the processor is a system job booking entries for any user.
        model = self.sudo().with_context(paycrm_quiet=True)
        return model._paycrm_queue_process(
            limit,
            lambda events: events._paycrm_process_claimed(),
            force=force,
            size=self._paycrm_batch_size(),
        )

    def _paycrm_process_claimed(self):
        """Apply the claimed events ``self`` in order, booking runs of
        payments together.

        Each event is checked in its own savepoint; payments come back as
        plans, created, posted and reconciled in one go before any other kind
        of event (a refund needs its payment booked) and before a second plan
        for the same payment (it must find the first one booked).
        """
        plans = []
        for event in self:
            if event.kind != "payment_succeeded":
                self._paycrm_book_plans(plans)
                event._paycrm_process_one()
                continue
            plan = event._paycrm_process_one(batch=True)
            if plan and any(plan.booking_key == other.booking_key for other in plans):
                # Planning wrote nothing: plan it again once the others are in.
                self._paycrm_book_plans(plans)
                plan = event._paycrm_process_one(batch=True)
            if plan:
                plans.append(plan)
        self._paycrm_book_plans(plans)

    def _paycrm_book_plans(self, plans):
        """Book ``plans`` (emptied) together, or one by one if that fails."""
        if not plans:
            return
        events = self.browse([plan.event.id for plan in plans])
        try:
            with self.env.cr.savepoint():
                self.env["paycrm.booking.poster"]._paycrm_post(plans)
        except Exception:  # noqa: BLE001 - each event is booked alone below
            self.env.invalidate_all()
            _logger.warning(
                "paycrm: %s payments failed as a batch, booking them one by one",
                len(plans),
                exc_info=True,
            )
            for event in events:
                event._paycrm_process_one()
        else:
            for event in events:
                _logger.info(
                    "paycrm event %s gateway %s %s %s: %s",
                    event.id,
                    event.gateway_id.id,
                    event.external_id,
                    event.event_type,
                    event.state,
                )
        finally:
            plans.clear()

    def _paycrm_process_one(self, batch=False):
        """Apply one event; failures are written after rolling its work back.

        With ``batch``, return the event's payment plan unposted (a
        ``Booking``) for the batch to post with others: the event is then left
        as it is.
        """
        self.ensure_one()
        try:
            # An event stored unverified is asked about first: a failed or
            # pending verification books nothing.
            if self._paycrm_check_verified():
                with self.env.cr.savepoint():
                    plan = self.env["paycrm.booking"]._paycrm_apply(self)
                    if batch and plan.batchable:
                        return plan
                    self.env["paycrm.booking.poster"]._paycrm_post([plan])
        except PaycrmVerifyPending as exc:
            # Not the booking that failed: the gateway could not say yet
            # whether it sent the event. Asked again for as long as it would
            # have retried the delivery, whatever Event Retries says.
            self.env.invalidate_all()
            self._paycrm_retry_verify(str(exc))
        except Exception as exc:  # noqa: BLE001 - retried or failed, never lost
            self.env.invalidate_all()
            if not isinstance(exc, EXPECTED_ERRORS):
                _logger.exception("paycrm event %s crashed", self.id)
            elif isinstance(exc, psycopg2.Error) and not (
                self._paycrm_queue_is_transient(exc)
            ):
                _logger.exception("paycrm event %s: database error", self.id)
            self._paycrm_queue_error(exc)
        _logger.info(
            "paycrm event %s gateway %s %s %s: %s",
            self.id,
            self.gateway_id.id,
            self.external_id,
            self.event_type,
            self.state,
        )

    def _paycrm_quiet(self):
        # The batch processor tracks no event state in chatter: one message per
        # event costs more than its booking. Manual actions (Reprocess, Match)
        # run without the flag and keep their tracking.
        if self.env.context.get("paycrm_quiet"):
            return self.with_context(tracking_disable=True)
        return self
