"""Webhook route: read the body, hand it to the intake (``paycrm.event.
_paycrm_intake``: verify, store, trigger the processor), answer. No accounting."""

import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from .. import const
from ..gateways import GatewayError, PayloadError
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
        # One byte over the limit: a chunked body (no Content-Length) is cut
        # at this length without an error, and must still be seen as too
        # large rather than as a truncated body.
        max_content_length=const.WEBHOOK_MAX_BYTES + 1,
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
        try:
            _record, created, envelope = request.env["paycrm.event"]._paycrm_intake(
                gateway, payload, request.httprequest.headers
            )
        except PayloadError as exc:
            return self._refuse(gateway_id, exc)
        except GatewayError as exc:
            _logger.warning(
                "paycrm webhook gateway %s: not configured (%s)", gateway_id, exc
            )
            return _answer(
                400, request.env._("gateway not configured: %(error)s", error=str(exc))
            )
        except SignatureError as exc:
            gateway._paycrm_count_bad_signature()
            _logger.warning(
                "paycrm webhook gateway %s: rejected signature (%s)", gateway_id, exc
            )
            return _answer(400, f"invalid signature: {exc}")
        # From the request, not the stored row: reading it back costs a query.
        _logger.info(
            "paycrm webhook gateway %s event %s %s: %s",
            gateway_id,
            envelope.external_id,
            envelope.event_type,
            "stored" if created else "duplicate",
        )
        return _answer(200, "ok" if created else "duplicate")

    @staticmethod
    def _refuse(gateway_id, exc):
        """400 naming the field of the body at fault (``PayloadError``)."""
        reason = request.env._(exc.message)
        _logger.warning(
            "paycrm webhook gateway %s: refused body (%s: %s)",
            gateway_id,
            exc.field,
            reason,
        )
        return _answer(
            400,
            request.env._(
                "invalid %(field)s: %(reason)s", field=exc.field, reason=reason
            ),
        )

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
