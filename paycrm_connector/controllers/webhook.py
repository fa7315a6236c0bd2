"""Webhook intake: verify, store, trigger the processor, answer. No accounting."""

import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from .. import const
from ..gateways import GatewayError, get_adapter
from ..gateways.signature import SignatureError

_logger = logging.getLogger(__name__)


def _answer(status, message):
    # Plain text: gateways log it; never a traceback.
    return request.make_response(
        message, headers=[("Content-Type", "text/plain; charset=utf-8")], status=status
    )


class PaycrmWebhookController(http.Controller):
    @http.route(
        "/paycrm/webhook/<int:gateway_id>",
        type="http",
        # "none" and the public user set below: what "public" does, without
        # its query checking on every request that the public user exists.
        auth="none",
        # auth="none" routes default to a read-only transaction first: the
        # INSERT would fail there and the whole request (signature check,
        # PayPal's verification call) run a second time.
        readonly=False,
        methods=["POST"],
        csrf=False,
        save_session=False,
        # Werkzeug stops reading past this, whatever Content-Length claims.
        max_content_length=const.WEBHOOK_MAX_BYTES,
    )
    def paycrm_webhook(self, gateway_id, **kwargs):
        request.update_env(
            user=request.env["ir.model.data"]._xmlid_to_res_id("base.public_user")
        )
        # Cached per registry: a known or unknown gateway costs no query.
        settings = request.env["paycrm.gateway"]._paycrm_webhook_settings(gateway_id)
        if not settings:
            return _answer(404, "unknown gateway")
        # sudo: the gateway is found by its id in the URL; the caller is the
        # gateway itself, authenticated below by the signature, not a user.
        gateway = request.env["paycrm.gateway"].sudo().browse(gateway_id)
        payload = self._read_body()
        if payload is None:
            _logger.info("paycrm webhook gateway %s: body too large", gateway_id)
            return _answer(413, "body too large")
        unverified = False
        try:
            get_adapter(settings.config).verify_webhook(
                payload, request.httprequest.headers
            )
        except GatewayError as exc:
            # The gateway's verification service could not be asked (PayPal):
            # keep the event unverified; it is checked again before booking.
            _logger.warning(
                "paycrm webhook gateway %s: not verified (%s)", gateway_id, exc
            )
            unverified = True
        except SignatureError as exc:
            gateway._paycrm_count_bad_signature()
            _logger.warning(
                "paycrm webhook gateway %s: rejected signature (%s)", gateway_id, exc
            )
            return _answer(400, f"invalid signature: {exc}")
        try:
            event = json.loads(payload)
        except ValueError:
            return _answer(400, "malformed JSON")
        if not isinstance(event, dict) or not event.get("id"):
            return _answer(400, "not an event: no id")
        if unverified:
            _record, created = request.env["paycrm.event"]._paycrm_store_unverified(
                gateway, payload, event, dict(request.httprequest.headers)
            )
        else:
            _record, created = request.env["paycrm.event"]._paycrm_store(
                gateway, payload, event
            )
        # From the request, not the stored row: reading it back costs a query.
        _logger.info(
            "paycrm webhook gateway %s event %s %s: %s",
            gateway_id,
            str(event["id"])[:255],
            str(event.get("type") or event.get("event_type") or "")[:255],
            "stored" if created else "duplicate",
        )
        return _answer(200, "ok" if created else "duplicate")

    @staticmethod
    def _read_body():
        """The raw body, or None when it exceeds the limit (by header or by
        what was really sent, so a lying Content-Length cannot pass)."""
        httprequest = request.httprequest
        limit = const.WEBHOOK_MAX_BYTES
        if (httprequest.content_length or 0) > limit:
            return None
        try:
            payload = httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            return None
        return None if len(payload) > limit else payload
