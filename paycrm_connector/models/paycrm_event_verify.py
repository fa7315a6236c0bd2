"""Events stored before their gateway could vouch for them.

PayPal signs nothing we can check alone: its verify-webhook-signature API says
whether it sent an event. When that API is down, the event is kept (so nothing
is lost) but marked unverified, with the headers the check needs; the processor
asks again before anything is booked, with back-off, for as long as the gateway
would have retried the delivery (its Verification Window), and books it as soon
as the API answers. Only a definitive "no" (or the window's end) fails it.
"""

import json
from datetime import timedelta

from odoo import _, api, fields, models

from .. import const
from ..gateways import GatewayError
from ..gateways.signature import SignatureError
from .paycrm_event import MANAGER, PROCESSOR_CRON, PaycrmRetry

# Request headers never kept with an unverified event.
DROPPED_HEADERS = {"cookie", "authorization"}


class PaycrmVerifyPending(PaycrmRetry):
    """The gateway's verification API did not answer: ask it again later."""


class PaycrmEvent(models.Model):
    # Split from paycrm_event.py only to keep each file under ~400 lines; the
    # deferred verification of gateways that verify by API (PayPal) lives here.
    _inherit = "paycrm.event"  # pylint: disable=consider-merging-classes-inherited

    verified = fields.Boolean(
        default=True,
        readonly=True,
        help="Unchecked: the gateway could not confirm the event when it arrived; "
        "it is checked again before anything is booked.",
    )
    transmission_headers = fields.Text(readonly=True, groups=MANAGER)

    @api.model
    def _paycrm_intake_vals(self, gateway, payload, event):
        vals = super()._paycrm_intake_vals(gateway, payload, event)
        # The intake is a plain INSERT: field defaults are not applied there.
        vals["verified"] = True
        headers = self.env.context.get("paycrm_unverified_headers")
        if headers is not None:
            vals["verified"] = False
            vals["transmission_headers"] = json.dumps(headers)
            vals["next_try"] = fields.Datetime.now() + timedelta(
                seconds=const.EVENT_RETRY_BASE_SECONDS
            )
        return vals

    @api.model
    def _paycrm_store_unverified(self, gateway, payload, event, headers):
        kept = {k: v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS}
        record, created = self.with_context(
            paycrm_unverified_headers=kept
        )._paycrm_store(gateway, payload, event)
        if created and record.state == "received":
            # The wake-up the intake asks for finds it not due yet: have the
            # processor run again when it is.
            # sudo: the intake runs as the public user.
            self.env.ref(PROCESSOR_CRON).sudo()._trigger(record.next_try)
        return record, created

    def _paycrm_reverify(self):
        """``None`` once the gateway vouches for the event, a ``(state, vals)``
        answer when it says it never sent it; ``PaycrmVerifyPending`` while it
        cannot say."""
        self.ensure_one()
        # sudo: payload and headers are managers-only; the processor is a job.
        event = self.sudo()
        headers = json.loads(event.transmission_headers or "{}")
        adapter = event.gateway_id._paycrm_adapter()
        try:
            adapter.verify_webhook(event.payload.encode("utf-8"), headers)
        except SignatureError as exc:
            return "failed", {
                "last_error": _(
                    "Not booked: the gateway did not confirm this event (%(error)s).",
                    error=exc,
                )
            }
        except GatewayError as exc:
            raise PaycrmVerifyPending(
                _("Not verified yet, will ask the gateway again: %(error)s", error=exc)
            ) from exc
        # Tries spent waiting for the verification API are no booking tries.
        event._paycrm_quiet().write(
            {"verified": True, "attempts": 0, "last_error": False}
        )
        event._paycrm_wake_unverified()
        return None

    def _paycrm_check_verified(self):
        """Whether the event may be booked: ``True`` when it was stored
        verified or its gateway vouches for it now. A gateway that says it
        never sent the event ends it failed here (``False``); one that cannot
        say yet raises ``PaycrmVerifyPending``."""
        self.ensure_one()
        if self.verified:
            return True
        # Its own savepoint: the wake-up of the other waiting events runs
        # outside the booking's, and must not leave the claim's transaction
        # aborted if it fails.
        with self.env.cr.savepoint():
            answer = self._paycrm_reverify()
        if answer is None:
            return True
        _state, vals = answer
        self._paycrm_queue_fail(vals["last_error"])
        return False

    def _paycrm_wake_unverified(self):
        """The gateway's verification API answers again: its other events
        waiting for it are due now, not at the end of their back-off (the
        processor run that verified this one takes them next)."""
        self._paycrm_queue_make_due(
            [
                ("gateway_id", "=", self.gateway_id.id),
                ("id", "!=", self.id),
                ("state", "=", "received"),
                ("verified", "=", False),
            ]
        )

    def _paycrm_retry_verify(self, message):
        """Ask the gateway again later, with back-off, until its verification
        window closes (counted from the event's arrival); then fail."""
        self.ensure_one()
        hours = self.gateway_id.verify_window_hours
        deadline = self.create_date + timedelta(hours=hours)
        if fields.Datetime.now() >= deadline:
            self._paycrm_queue_fail(
                _(
                    "Not booked: the gateway could not verify this event within "
                    "its verification window (%(hours)s h). %(error)s",
                    hours=hours,
                    error=message,
                )
            )
            return
        # No limit of tries but the window, whose end the last try falls on.
        self._paycrm_queue_retry(
            message,
            max_attempts=0,
            cap=const.VERIFY_RETRY_MAX_SECONDS,
            deadline=deadline,
        )
