"""The PayPal stand-in's event notifications and webhooks: the events its
flows record (``GET /v1/notifications/webhooks-events``, newest first, paged
by a ``next`` link) and the webhooks one registers
(``/v1/notifications/webhooks``, ``WEBHOOK_URL_ALREADY_EXISTS`` for a URL
registered twice). Odoo-free.

A mixin of ``PaypalStandin``, which provides ``_lock``, ``page_paths`` and
``url`` (``HttpStandin``), ``new_id``, ``error`` (its error type) and
``not_found``.
"""

import copy
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

EVENTS_PATH = "/v1/notifications/webhooks-events"
WEBHOOKS_PATH = "/v1/notifications/webhooks"
MAX_WEBHOOKS = 10  # PayPal's limit per app


def _epoch(value):
    """RFC 3339 time (``...Z`` or an offset) -> epoch seconds."""
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp())


def _iso(epoch):
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


class EventsMixin:
    def _init_events(self, first_webhook_id):
        """The events state, empty; the routes serving it."""
        self.events = {}  # id -> event, in the order recorded
        # False: the stand-in's flows (capturing, refunding) record no event;
        # ``record_event`` still does.
        self.record_events = True
        self.webhooks = {}  # id -> webhook, in the order created
        # The first webhook created gets the id the signing helpers use.
        self._first_webhook_id = first_webhook_id
        # Where ``next`` links point (None: this stand-in), to test that an
        # adapter refuses to follow a link elsewhere.
        self.next_link_base = None
        self.page_paths |= {EVENTS_PATH, WEBHOOKS_PATH}
        return [
            ("GET", EVENTS_PATH, self._list_events),
            ("GET", EVENTS_PATH + "/([^/]+)", self._get_event),
            ("POST", WEBHOOKS_PATH, self._create_webhook),
            ("GET", WEBHOOKS_PATH, self._list_webhooks),
            ("GET", WEBHOOKS_PATH + "/([^/]+)", self._get_webhook),
            ("PATCH", WEBHOOKS_PATH + "/([^/]+)", self._update_webhook),
        ]

    # -- helpers for tests -------------------------------------------------------

    def record_event(self, event, created=None):
        """Store ``event`` (from ``make_event``, ``capture_event``,
        ``refund_event``, ``dispute_event``: a snapshot) as PayPal lists it,
        at ``created`` (epoch seconds) when given; return the stored event."""
        event = copy.deepcopy(event)
        if created is not None:
            event["create_time"] = _iso(created)
        with self._lock:
            self.events[event["id"]] = event
        return event

    def _record(self, event):
        """``record_event`` for the stand-in's own flows, unless switched off."""
        return self.record_event(event) if self.record_events else None

    def events_of(self, *event_types):
        """The recorded events (of ``event_types``, when given), oldest first."""
        return [
            event
            for event in self.events.values()
            if not event_types or event["event_type"] in event_types
        ]

    # -- events ------------------------------------------------------------------

    def _bad_query(self, description):
        return self.error(
            400,
            "INVALID_REQUEST",
            "Request is not well-formed, syntactically incorrect, or violates schema.",
            "INVALID_PARAMETER_VALUE",
            description,
        )

    def _list_events(self, req):
        query = dict(parse_qsl(req.query))
        try:
            size = int(query.get("page_size", 10))
            start = _epoch(query["start_time"]) if "start_time" in query else None
            end = _epoch(query["end_time"]) if "end_time" in query else None
        except ValueError as exc:
            raise self._bad_query(f"Invalid query: {exc}") from exc
        if not 1 <= size <= 300:
            raise self._bad_query("page_size must be between 1 and 300.")
        # Newest first; of events of the same second, the last recorded first.
        listed = sorted(
            reversed(list(self.events.values())),
            key=lambda event: _epoch(event["create_time"]),
            reverse=True,
        )
        listed = [
            event
            for event in listed
            if (start is None or _epoch(event["create_time"]) >= start)
            and (end is None or _epoch(event["create_time"]) <= end)
            and query.get("event_type", event["event_type"]) == event["event_type"]
        ]
        first = 0
        if query.get("start_id"):
            ids = [event["id"] for event in listed]
            if query["start_id"] not in ids:
                raise self._bad_query(f"Unknown start_id {query['start_id']}.")
            first = ids.index(query["start_id"])
        page = listed[first : first + size]
        base = (self.next_link_base or self.url) + EVENTS_PATH
        links = [{"href": f"{base}?{req.query}", "rel": "self", "method": "GET"}]
        if first + size < len(listed):
            after = {**query, "start_id": listed[first + size]["id"]}
            links.append(
                {"href": f"{base}?{urlencode(after)}", "rel": "next", "method": "GET"}
            )
        return 200, {"events": page, "count": len(page), "links": links}

    def _get_event(self, req, event_id):
        if event_id not in self.events:
            raise self.not_found(event_id)
        return 200, self.events[event_id]

    # -- webhooks ----------------------------------------------------------------

    def _webhook_body(self, body):
        """The url and event types of a webhook request, checked."""
        url = body.get("url") if isinstance(body, dict) else None
        types = body.get("event_types") if isinstance(body, dict) else None
        if not url or not isinstance(url, str):
            raise self._validation("url", "A valid URL is required.")
        self._check_types(types)
        return url, types

    def _validation(self, field, description):
        error = self.error(
            400,
            "VALIDATION_ERROR",
            "Invalid request - see details.",
            "INVALID_PARAMETER_VALUE",
            description,
        )
        error.body["details"][0]["field"] = field
        return error

    def _check_types(self, types):
        if not (
            isinstance(types, list)
            and types
            and all(isinstance(t, dict) and t.get("name") for t in types)
        ):
            raise self._validation(
                "event_types", "At least one event type is required."
            )

    def _check_url_free(self, url, webhook_id=None):
        if any(
            hook["url"] == url and hook["id"] != webhook_id
            for hook in self.webhooks.values()
        ):
            # PayPal's answer: its name is the issue, no details.
            raise self.error(
                400, "WEBHOOK_URL_ALREADY_EXISTS", "Webhook URL already exists."
            )

    def _webhook(self, webhook_id, url, types):
        href = f"https://api-m.sandbox.paypal.com{WEBHOOKS_PATH}/{webhook_id}"
        return {
            "id": webhook_id,
            "url": url,
            "event_types": [
                {
                    "name": t["name"],
                    "description": f"{t['name']} (stand-in)",
                    "status": "ENABLED",
                }
                for t in types
            ],
            "links": [
                {"href": href, "rel": "self", "method": "GET"},
                {"href": href, "rel": "update", "method": "PATCH"},
                {"href": href, "rel": "delete", "method": "DELETE"},
            ],
        }

    def _create_webhook(self, req):
        url, types = self._webhook_body(req.json)
        self._check_url_free(url)
        if len(self.webhooks) >= MAX_WEBHOOKS:
            raise self.error(
                400,
                "WEBHOOK_NUMBER_LIMIT_EXCEEDED",
                "The webhook's number limit has exceeded.",
            )
        webhook_id = self.new_id("WH")
        if not self.webhooks and self._first_webhook_id not in self.webhooks:
            webhook_id = self._first_webhook_id
        self.webhooks[webhook_id] = self._webhook(webhook_id, url, types)
        return 201, self.webhooks[webhook_id]

    def _list_webhooks(self, req):
        return 200, {"webhooks": list(self.webhooks.values())}

    def _get_webhook(self, req, webhook_id):
        if webhook_id not in self.webhooks:
            raise self.not_found(webhook_id)
        return 200, self.webhooks[webhook_id]

    def _update_webhook(self, req, webhook_id):
        hook = self._get_webhook(req, webhook_id)[1]
        patch = req.json
        if not isinstance(patch, list) or not patch:
            raise self._validation("patch", "A JSON patch array is required.")
        url = hook["url"]
        types = hook["event_types"]
        for op in patch:
            path = op.get("path") if isinstance(op, dict) else None
            if op.get("op") != "replace" or path not in ("/url", "/event_types"):
                raise self._validation(
                    "op", "Only replace of /url or /event_types is supported."
                )
            if path == "/url":
                url = op.get("value")
                if not url or not isinstance(url, str):
                    raise self._validation("url", "A valid URL is required.")
            else:
                types = op.get("value")
                self._check_types(types)
        self._check_url_free(url, webhook_id)
        self.webhooks[webhook_id] = self._webhook(webhook_id, url, types)
        return 200, self.webhooks[webhook_id]
