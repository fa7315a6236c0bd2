"""Stripe's list of events (catch-up of missed webhooks) and its webhook
endpoints (one-click registration), for ``StripeAdapter``.

A mixin on ``StripeAdapter``: it uses the adapter's ``client`` and ``_call``
(SDK errors in plain words), and returns the plain values of ``base``.
"""

import json
import uuid

import stripe as stripe_sdk

from odoo.tools import LazyTranslate

from .base import EventPage, GatewayError, GatewayRefused, WebhookEndpoint

_lt = LazyTranslate(__name__, default_lang="en_US")

# Stripe lists at most 100 objects a page, and filters on at most 20 types.
PAGE_SIZE = 100
MAX_TYPES = 20
# Stripe keeps events listable for 30 days.
HISTORY_DAYS = 30


def endpoint_values(obj):
    """A ``WebhookEndpoint`` of a Stripe webhook endpoint (a dict)."""
    return WebhookEndpoint(
        endpoint_id=obj.get("id") or "",
        url=obj.get("url") or "",
        event_types=tuple(sorted(obj.get("enabled_events") or ())),
        enabled=obj.get("status", "enabled") == "enabled",
        secret=obj.get("secret") or "",
    )


class StripeSyncMixin:
    """Needs the adapter's ``client``, ``_call`` and ``not_stripe``."""

    lists_events = True
    registers_webhooks = True
    event_history_days = HISTORY_DAYS

    def _as_dict(self, result):
        """The plain dict of an SDK answer, or the not-Stripe error."""
        if not isinstance(result, stripe_sdk.StripeObject):
            raise self.not_stripe(200)
        return result.to_dict()

    def _raw_json(self, result):
        """The answer's JSON as Stripe sent it: events are stored as their
        webhook would have brought them (the SDK turns decimal strings into
        ``Decimal``, which JSON cannot hold)."""
        self._as_dict(result)
        response = result.last_response
        try:
            page = json.loads(response.body)
        except (AttributeError, TypeError, ValueError) as exc:
            raise self.not_stripe(200) from exc
        if not isinstance(page, dict):
            raise self.not_stripe(200)
        return page

    # ---------------------------------------------------------------- events

    def list_events(self, since, until, cursor=""):
        params = {
            "created": {"gte": int(since), "lt": int(until)},
            "limit": PAGE_SIZE,
        }
        types = list(self.webhook_event_types())
        if len(types) <= MAX_TYPES:
            params["types"] = types
        if cursor:
            if not isinstance(cursor, str) or not cursor.startswith("evt_"):
                raise GatewayError(
                    _lt(
                        "the catch-up position %(cursor)s is not a Stripe event id",
                        cursor=repr(cursor),
                    )
                )
            params["starting_after"] = cursor
        page = self._raw_json(self._call(self.client.v1.events.list, params=params))
        events = page.get("data")
        if not isinstance(events, list) or not all(
            isinstance(event, dict) and event.get("id") for event in events
        ):
            raise self.not_stripe(200)
        more = bool(page.get("has_more")) and bool(events)
        return EventPage(events=events, cursor=events[-1]["id"] if more else "")

    # -------------------------------------------------------------- webhooks

    def _retrieve_endpoint(self, endpoint_id):
        try:
            return self.client.v1.webhook_endpoints.retrieve(endpoint_id)
        except stripe_sdk.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None  # deleted in the dashboard, or another account's
            raise

    def _endpoint(self, endpoint_id):
        found = self._call(self._retrieve_endpoint, endpoint_id)
        return None if found is None else self._as_dict(found)

    def _endpoints(self):
        """Every webhook endpoint of the account (Stripe allows 16)."""
        params, found = {"limit": PAGE_SIZE}, []
        while True:
            page = self._as_dict(
                self._call(self.client.v1.webhook_endpoints.list, params=params)
            )
            data = page.get("data") or []
            found += [obj for obj in data if isinstance(obj, dict)]
            if not page.get("has_more") or not data:
                return found
            params["starting_after"] = data[-1]["id"]

    def find_webhook(self, url, endpoint_id=""):
        if endpoint_id:
            found = self._endpoint(endpoint_id)
            if found is not None:
                return endpoint_values(found)
        for obj in self._endpoints():
            if obj.get("url") == url:
                return endpoint_values(obj)
        return None

    def register_webhook(self, url, endpoint_id=""):
        params = {"url": url, "enabled_events": list(self.webhook_event_types())}
        if endpoint_id and self._endpoint(endpoint_id) is not None:
            updated = self._call(
                self.client.v1.webhook_endpoints.update, endpoint_id, params=params
            )
            return endpoint_values(self._as_dict(updated))
        for obj in self._endpoints():
            if obj.get("url") == url:
                raise GatewayRefused(
                    _lt(
                        "Stripe already has a webhook endpoint for %(url)s "
                        "(%(endpoint)s), and Stripe shows its signing secret only "
                        "when it is created: paste that secret on the gateway, or "
                        "delete the endpoint in the Stripe dashboard and register "
                        "again",
                        url=url,
                        endpoint=obj.get("id") or "?",
                    )
                )
        created = self._call(
            self.client.v1.webhook_endpoints.create,
            params={**params, "description": "Odoo (paycrm_connector)"},
            options={"idempotency_key": f"paycrm-webhook-{uuid.uuid4().hex}"},
        )
        return endpoint_values(self._as_dict(created))
