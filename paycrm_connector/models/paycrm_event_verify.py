"""Events stored before their gateway could vouch for them.

PayPal signs nothing we can check alone: its verify-webhook-signature API says
whether it sent an event. When that API is down, the event is kept (so nothing
is lost) but marked unverified, with the headers the check needs; the processor
asks again before anything is booked.
"""

import json
from datetime import timedelta

from odoo import _, api, fields, models

from .. import const
from ..gateways import GatewayError
from ..gateways.signature import SignatureError
from .paycrm_event import MANAGER, PaycrmRetry

# Request headers never kept with an unverified event.
DROPPED_HEADERS = {"cookie", "authorization"}


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
        return self.with_context(paycrm_unverified_headers=kept)._paycrm_store(
            gateway, payload, event
        )

    def _paycrm_reverify(self):
        """``None`` once the gateway vouches for the event, a ``(state, vals)``
        answer when it says it never sent it; retried while it cannot say."""
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
            raise PaycrmRetry(
                _("Not verified yet, will ask the gateway again: %(error)s", error=exc)
            ) from exc
        event.verified = True
        return None
