"""The Stripe stand-in's events and webhook endpoints: the events its flows
record (``GET /v1/events``, newest first, filtered and paged as Stripe does)
and the endpoints one registers (``/v1/webhook_endpoints``, the signing
secret in the creation's answer only). Odoo-free.

A mixin of ``StripeStandin``, which provides ``objects``, ``new_id``,
``_retrieve``, ``page_paths`` and ``_lock`` (``HttpStandin``), the
``StripeError`` type (``error``), ``fixture``, ``now`` and ``make_event``.
"""

import copy
import fnmatch
import operator
import secrets

EVENTS_PATH = "/v1/events"
ENDPOINTS_PATH = "/v1/webhook_endpoints"
MAX_ENDPOINTS = 16  # Stripe's limit per account and mode
MAX_LIMIT = 100
CREATED_TESTS = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
}


class EventsMixin:
    def _init_events(self):
        """The events state, empty; the routes serving it (before the
        stand-in's generic ``GET /v1/<collection>/<id>``, which serves one
        event or endpoint)."""
        # False: the stand-in's flows (paying, refunding, expiring) record no
        # event; ``record_event`` still does.
        self.record_events = True
        self.webhook_secrets = {}  # endpoint id -> its signing secret
        self.page_paths |= {EVENTS_PATH, ENDPOINTS_PATH}
        return [
            ("GET", EVENTS_PATH, self._list_events),
            ("POST", ENDPOINTS_PATH, self._create_endpoint),
            ("GET", ENDPOINTS_PATH, self._list_endpoints),
            ("POST", ENDPOINTS_PATH + "/([^/]+)", self._update_endpoint),
            ("DELETE", ENDPOINTS_PATH + "/([^/]+)", self._delete_endpoint),
        ]

    # -- helpers for tests -------------------------------------------------------

    def record_event(self, event_type, obj, created=None, event_id=None):
        """Store the event Stripe would create for ``obj`` (a snapshot of
        it, as Stripe takes) and return it: what its webhook body would be."""
        event = self.make_event(
            event_type, copy.deepcopy(obj), event_id=event_id, created=created
        )
        with self._lock:
            self.objects["event"][event["id"]] = event
        return event

    def _record(self, event_type, obj, created=None):
        """``record_event`` for the stand-in's own flows, unless switched off."""
        if self.record_events:
            return self.record_event(event_type, obj, created=created)
        return None

    def events_of(self, *event_types):
        """The recorded events (of ``event_types``, when given), oldest first."""
        return [
            event
            for event in self.objects["event"].values()
            if not event_types or event["type"] in event_types
        ]

    # -- events ------------------------------------------------------------------

    def _newest_first(self, objects):
        # Stable sort: of events created in the same second, the one recorded
        # last comes first, as Stripe lists them.
        return sorted(
            reversed(list(objects)), key=lambda obj: obj["created"], reverse=True
        )

    def _page(self, params, objects, url, kind, keep=None):
        """One page of ``objects`` (newest first) as Stripe's list object:
        ``limit``, ``starting_after`` and ``ending_before`` applied. A cursor
        names an object of the whole list: it positions the page even when
        ``keep`` (the filters) leaves that object out."""
        limit = params.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise self.error(
                400,
                f"Invalid integer: {limit}: must be between 1 and {MAX_LIMIT}",
                param="limit",
            )
        ids = [obj["id"] for obj in objects]
        for param in ("starting_after", "ending_before"):
            if params.get(param) and params[param] not in ids:
                raise self.error(
                    400,
                    f"No such {kind}: '{params[param]}'",
                    code="resource_missing",
                    param=param,
                )
        before = params.get("ending_before")
        if before:
            objects = objects[: ids.index(before)]
        elif params.get("starting_after"):
            objects = objects[ids.index(params["starting_after"]) + 1 :]
        kept = [obj for obj in objects if keep is None or keep(obj)]
        page = kept[-limit:] if before else kept[:limit]
        return {
            "object": "list",
            "url": url,
            "data": page,
            "has_more": len(kept) > limit,
        }

    def _list_events(self, params):
        wanted = params.get("types") or []
        if isinstance(wanted, str):
            wanted = [wanted]
        if len(wanted) > 20:
            raise self.error(
                400, "You may pass at most 20 types to filter on.", param="types"
            )
        pattern = params.get("type")
        bounds = params.get("created")
        if bounds is not None and not isinstance(bounds, dict):
            bounds = {"eq": bounds}
        try:
            bounds = {op: int(value) for op, value in (bounds or {}).items()}
        except (TypeError, ValueError) as exc:
            raise self.error(
                400, "Invalid integer for created.", param="created"
            ) from exc
        if set(bounds) - set(CREATED_TESTS):
            raise self.error(400, "Invalid created filter.", param="created")

        def keep(event):
            if wanted and event["type"] not in wanted:
                return False
            if pattern and not fnmatch.fnmatchcase(event["type"], pattern):
                return False
            return all(
                CREATED_TESTS[op](event["created"], value)
                for op, value in bounds.items()
            )

        events = self._newest_first(self.objects["event"].values())
        return self._page(params, events, EVENTS_PATH, "event", keep)

    # -- webhook endpoints -------------------------------------------------------

    def _create_endpoint(self, params):
        if not params.get("url"):
            raise self.error(400, "Missing required param: url.", param="url")
        events = params.get("enabled_events")
        if not events or not isinstance(events, list):
            raise self.error(
                400, "Missing required param: enabled_events.", param="enabled_events"
            )
        if len(self.objects["webhook_endpoint"]) >= MAX_ENDPOINTS:
            raise self.error(
                400,
                f"You have reached the maximum of {MAX_ENDPOINTS} test webhook "
                "endpoints.",
            )
        endpoint_id = self.new_id("webhook_endpoint")
        endpoint = self.fixture(
            "webhook_endpoint",
            id=endpoint_id,
            created=self.now(),
            url=params["url"],
            enabled_events=list(events),
            description=params.get("description"),
            metadata=params.get("metadata") or {},
            status="enabled",
            api_version=params.get("api_version"),
        )
        self.objects["webhook_endpoint"][endpoint_id] = endpoint
        secret = f"whsec_{secrets.token_hex(16)}"
        self.webhook_secrets[endpoint_id] = secret
        # Stripe shows the secret once: in the answer to this creation.
        return {**endpoint, "secret": secret}

    def _list_endpoints(self, params):
        endpoints = self._newest_first(self.objects["webhook_endpoint"].values())
        return self._page(params, endpoints, ENDPOINTS_PATH, "webhook endpoint")

    def _update_endpoint(self, params, endpoint_id):
        endpoint = self._retrieve(params, "webhook_endpoints", endpoint_id)
        for key in ("url", "description", "metadata"):
            if key in params:
                endpoint[key] = params[key]
        if "enabled_events" in params:
            endpoint["enabled_events"] = list(params["enabled_events"])
        if "disabled" in params:
            endpoint["status"] = "disabled" if params["disabled"] else "enabled"
        return endpoint

    def _delete_endpoint(self, params, endpoint_id):
        self._retrieve(params, "webhook_endpoints", endpoint_id)
        del self.objects["webhook_endpoint"][endpoint_id]
        self.webhook_secrets.pop(endpoint_id, None)
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
