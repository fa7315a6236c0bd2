"""PayPal's list of event notifications (catch-up of missed webhooks) and its
webhooks (one-click registration), for ``PaypalAdapter``.

A mixin on ``PaypalAdapter``: it uses the adapter's ``_api`` (errors in plain
words) and ``api_base``, and returns the plain values of ``base``.
"""

from urllib.parse import urlencode, urlsplit

from odoo.tools import LazyTranslate

from .base import EventPage, GatewayError, WebhookEndpoint
from .paypal_reporting import iso

_lt = LazyTranslate(__name__, default_lang="en_US")

EVENTS_PATH = "/v1/notifications/webhooks-events"
WEBHOOKS_PATH = "/v1/notifications/webhooks"
# PayPal's reference gives a default page size (10) and no maximum; 100 is
# what its dashboards ask for.
PAGE_SIZE = 100
# PayPal documents no retention for its event list: assume Stripe's 30 days.
HISTORY_DAYS = 30
DUPLICATE_URL = "WEBHOOK_URL_ALREADY_EXISTS"


def endpoint_values(obj):
    """A ``WebhookEndpoint`` of a PayPal webhook (a dict)."""
    names = [
        event_type.get("name")
        for event_type in obj.get("event_types") or []
        if isinstance(event_type, dict) and event_type.get("name")
    ]
    return WebhookEndpoint(
        endpoint_id=obj.get("id") or "",
        url=obj.get("url") or "",
        event_types=tuple(sorted(names)),
    )


class PaypalSyncMixin:
    """Needs the adapter's ``_api``, ``api_base`` and ``refused_class``."""

    lists_events = True
    registers_webhooks = True
    event_history_days = HISTORY_DAYS

    # ---------------------------------------------------------------- events

    def _next_cursor(self, body):
        """The path and query of the page after ``body`` ("" when none),
        taken from its ``next`` link if that points at PayPal's API."""
        href = next(
            (
                link.get("href")
                for link in body.get("links") or []
                if isinstance(link, dict) and link.get("rel") == "next"
            ),
            None,
        )
        if not href or not isinstance(href, str):
            return ""
        split = urlsplit(href)
        host = (split.hostname or "").lower()
        ours = (urlsplit(self.api_base).hostname or "").lower()
        if host and host != ours and not host.endswith(".paypal.com"):
            raise GatewayError(
                _lt(
                    "the gateway's next page of events is on another host "
                    "(%(host)s): not followed",
                    host=host,
                )
            )
        return self._check_cursor(
            split.path + (f"?{split.query}" if split.query else "")
        )

    @staticmethod
    def _check_cursor(cursor):
        if not (
            isinstance(cursor, str)
            and cursor.startswith(EVENTS_PATH + "?")
            and "#" not in cursor
        ):
            raise GatewayError(
                _lt(
                    "the catch-up position %(cursor)s is not a page of PayPal's "
                    "event list",
                    cursor=repr(cursor)[:200],
                )
            )
        return cursor

    def list_events(self, since, until, cursor=""):
        if cursor:
            path = self._check_cursor(cursor)
        else:
            # PayPal's end_time is inclusive, to the second.
            query = urlencode(
                {
                    "page_size": PAGE_SIZE,
                    "start_time": iso(since),
                    "end_time": iso(int(until) - 1),
                }
            )
            path = f"{EVENTS_PATH}?{query}"
        body = self._api("GET", path)
        events = body.get("events")
        if events is None:
            events = []
        if not isinstance(events, list) or not all(
            isinstance(event, dict) and event.get("id") for event in events
        ):
            raise GatewayError(
                _lt("PayPal's list of events came back in a shape it never sends")
            )
        cursor = self._next_cursor(body) if events else ""
        return EventPage(events=events, cursor=cursor)

    # -------------------------------------------------------------- webhooks

    def _webhook(self, endpoint_id):
        try:
            return self._api("GET", f"{WEBHOOKS_PATH}/{self.quote_id(endpoint_id)}")
        except self.refused_class as exc:
            if exc.http_status == 404:
                return None
            raise

    def _webhooks(self):
        body = self._api("GET", WEBHOOKS_PATH)
        return [obj for obj in body.get("webhooks") or [] if isinstance(obj, dict)]

    def find_webhook(self, url, endpoint_id=""):
        if endpoint_id:
            found = self._webhook(endpoint_id)
            if found is not None:
                return endpoint_values(found)
        for obj in self._webhooks():
            if obj.get("url") == url:
                return endpoint_values(obj)
        return None

    def _update_webhook(self, endpoint_id, url, types):
        patch = [
            {"op": "replace", "path": "/url", "value": url},
            {"op": "replace", "path": "/event_types", "value": types},
        ]
        path = f"{WEBHOOKS_PATH}/{self.quote_id(endpoint_id)}"
        return endpoint_values(self._api("PATCH", path, patch))

    def register_webhook(self, url, endpoint_id=""):
        types = [{"name": name} for name in self.webhook_event_types()]
        if endpoint_id and self._webhook(endpoint_id) is not None:
            return self._update_webhook(endpoint_id, url, types)
        try:
            created = self._api(
                "POST", WEBHOOKS_PATH, {"url": url, "event_types": types}
            )
        except self.refused_class as exc:
            if exc.issue != DUPLICATE_URL:
                raise
            # Registered before (by hand, or by a lost answer): adopt it.
            existing = next(
                (obj for obj in self._webhooks() if obj.get("url") == url), None
            )
            if existing is None:
                raise
            return self._update_webhook(existing["id"], url, types)
        return endpoint_values(created)
