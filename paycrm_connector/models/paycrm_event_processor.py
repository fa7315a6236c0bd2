"""The event processor: claims ready events in batches and books them."""

import logging
from datetime import timedelta

import psycopg2
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const
from ..gateways import GatewayError, GatewayUnreachable, PayloadError
from .paycrm_event import PaycrmRetry
from .paycrm_event_verify import PaycrmVerifyPending

_logger = logging.getLogger(__name__)

# Cron jobs running the event processor (see data/ir_cron_data.xml).
PROCESSOR_CRONS = (
    "paycrm_connector.ir_cron_paycrm_process_events",
    "paycrm_connector.ir_cron_paycrm_process_events_helper",
)
# Database errors worth another try: another worker held the row or won a race.
TRANSIENT_PGCODES = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
    errorcodes.UNIQUE_VIOLATION,
}


class PaycrmEvent(models.Model):
    # Split from paycrm_event.py only to keep each file under ~400 lines.
    _inherit = "paycrm.event"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_paycrm_process_events(self, limit=200):
        processor = self.with_context(paycrm_commit=True)
        done = processor._paycrm_process_batch(limit)
        remaining = processor._paycrm_ready_count()
        if done and remaining:
            # A backlog: wake the other processor job, for another cron worker.
            for xmlid in PROCESSOR_CRONS:
                cron = self.env.ref(xmlid, raise_if_not_found=False)
                if cron and cron.id != self.env.context.get("cron_id"):
                    cron.sudo()._trigger()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    def _paycrm_ready_domain(self, force=False):
        domain = [("state", "=", "received"), ("gateway_id.state", "!=", "disabled")]
        if not force:
            domain += [
                "|",
                ("next_try", "=", False),
                ("next_try", "<=", fields.Datetime.now()),
            ]
        return domain

    @api.model
    def _paycrm_ready_count(self):
        return self.sudo().search_count(self._paycrm_ready_domain())

    def _paycrm_commits(self):
        # Tests run on one cursor that must not commit: a savepoint per event
        # gives them the same isolation.
        return bool(self.env.context.get("paycrm_commit")) and not (
            self.env.registry.in_test_mode()
        )

    @api.model
    def _paycrm_lock_ready(self, limit, force=False, exclude=()):
        now = fields.Datetime.now()
        self.env["paycrm.gateway"].flush_model(["state"])
        self.flush_model(["state", "next_try"])
        self.env.cr.execute(
            SQL(
                """
                SELECT e.id FROM paycrm_event e
                  JOIN paycrm_gateway g ON g.id = e.gateway_id
                 WHERE e.state = 'received' AND g.state != 'disabled'
                   AND (%s OR e.next_try IS NULL OR e.next_try <= %s)
                   AND e.id != ALL(%s)
                 ORDER BY e.id
                 LIMIT %s
                   FOR UPDATE OF e SKIP LOCKED
                """,
                bool(force),
                now,
                list(exclude),
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

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

        Events are claimed ``batch size`` at a time with ``FOR UPDATE SKIP
        LOCKED`` (so several workers share the queue), each applied inside its
        own savepoint (a bad event rolls back alone, its error is written
        outside it), and each claim committed once: a crash loses a whole
        claim's work and its events together, and they are simply processed
        again. ``force`` ignores the back-off schedule (reprocessing, tests).
        """
        commit = self._paycrm_commits()
        # sudo: the processor is a system job booking entries for any user.
        model = self.sudo().with_context(paycrm_quiet=True)
        size = self._paycrm_batch_size()
        seen = []
        while len(seen) < limit:
            ids = model._paycrm_lock_ready(
                min(size, limit - len(seen)), force=force, exclude=seen
            )
            if not ids:
                break
            model.browse(ids)._paycrm_process_claimed()
            seen += ids
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return len(seen)

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
        except (PaycrmRetry, GatewayUnreachable) as exc:
            self.env.invalidate_all()
            self._paycrm_retry_later(str(exc))
        except psycopg2.Error as exc:
            self.env.invalidate_all()
            if exc.pgcode not in TRANSIENT_PGCODES:
                _logger.exception("paycrm event %s: database error", self.id)
                self._paycrm_fail(str(exc).split("\n")[0])
                return
            self._paycrm_retry_later(
                _("Database conflict (%(code)s), will retry.", code=exc.pgcode)
            )
        except (GatewayError, UserError) as exc:
            self.env.invalidate_all()
            self._paycrm_fail(str(exc))
        except PayloadError as exc:
            # Stored before the intake checked these fields: it never will be
            # booked, and retrying changes nothing.
            self.env.invalidate_all()
            self._paycrm_fail(
                self.env._(
                    "Not a valid event: %(field)s %(reason)s",
                    field=exc.field,
                    reason=self.env._(exc.message),
                )
            )
        except Exception as exc:  # noqa: BLE001 - a crash must leave the event retried
            self.env.invalidate_all()
            _logger.exception("paycrm event %s crashed", self.id)
            self._paycrm_retry_later(_("Unexpected error: %(error)s", error=exc))
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

    def _paycrm_retry_later(self, message):
        attempts = self.attempts + 1
        if attempts >= max(self.gateway_id.event_max_attempts, 1):
            self._paycrm_fail(message, attempts=attempts)
            return
        delay = min(
            const.EVENT_RETRY_BASE_SECONDS * 2 ** (attempts - 1),
            const.EVENT_RETRY_MAX_SECONDS,
        )
        next_try = fields.Datetime.now() + timedelta(seconds=delay)
        self._paycrm_schedule_retry(attempts, next_try, message)

    def _paycrm_schedule_retry(self, attempts, next_try, message):
        self._paycrm_quiet().write(
            {"attempts": attempts, "next_try": next_try, "last_error": message}
        )
        self.env.ref(PROCESSOR_CRONS[0])._trigger(next_try)

    def _paycrm_fail(self, message, attempts=None):
        self._paycrm_quiet().write(
            {
                "state": "failed",
                "attempts": attempts or self.attempts + 1,
                "next_try": False,
                "last_error": message,
            }
        )
