"""Webhook intake: verify, store, trigger the processor, answer. No accounting."""

import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from .. import const
from ..gateways import GatewayError
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
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # Werkzeug stops reading past this, whatever Content-Length claims.
        max_content_length=const.WEBHOOK_MAX_BYTES,
    )
    def paycrm_webhook(self, gateway_id, **kwargs):
        # sudo: the gateway is found by its id in the URL; the caller is the
        # gateway itself, authenticated below by the signature, not a user.
        gateway = (
            request.env["paycrm.gateway"]
            .sudo()
            .with_context(active_test=False)
            .browse(gateway_id)
            .exists()
        )
        if not gateway:
            return _answer(404, "unknown gateway")
        payload = self._read_body()
        if payload is None:
            _logger.info("paycrm webhook gateway %s: body too large", gateway.id)
            return _answer(413, "body too large")
        try:
            gateway._paycrm_adapter().verify_webhook(
                payload, request.httprequest.headers
            )
        except (SignatureError, GatewayError) as exc:
            gateway._paycrm_count_bad_signature()
            _logger.warning(
                "paycrm webhook gateway %s: rejected signature (%s)", gateway.id, exc
            )
            return _answer(400, f"invalid signature: {exc}")
        try:
            event = json.loads(payload)
        except ValueError:
            return _answer(400, "malformed JSON")
        if not isinstance(event, dict) or not event.get("id"):
            return _answer(400, "not an event: no id")
        record, created = request.env["paycrm.event"]._paycrm_store(
            gateway, payload, event
        )
        _logger.info(
            "paycrm webhook gateway %s event %s %s: %s",
            gateway.id,
            record.external_id,
            record.event_type,
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
