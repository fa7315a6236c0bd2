"""A local HTTP stand-in for the Stripe API, for tests that run the real SDK.

Odoo-free on purpose: gateway adapters are plain Python (DESIGN.md §5), so their tests
and Odoo's can share it. Answers start from Stripe's published example objects
(``shared/stripe/fixtures3.json``) so payloads look like what Stripe really sends and
the SDK parses them exactly as in production. Point a client at it with::

    stripe.StripeClient(key, base_addresses={"api": standin.url})
"""

import copy
import functools
import itertools
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from .http_standin import CIDict, HttpStandin, JsonHandler
from .stripe_standin_events import EventsMixin
from .stripe_standin_methods import MethodsMixin

FIXTURES_ENV = "PAYCRM_STRIPE_FIXTURES"
FIXTURES_RELPATH = Path("shared", "stripe", "fixtures3.json")

# kind -> (id prefix, URL collection). Real prefixes, so code that sniffs them works.
RESOURCES = {
    "customer": ("cus", "customers"),
    "checkout.session": ("cs", "checkout/sessions"),
    "payment_intent": ("pi", "payment_intents"),
    "charge": ("ch", "charges"),
    "refund": ("re", "refunds"),
    "balance_transaction": ("txn", "balance_transactions"),
    "payout": ("po", "payouts"),
    "dispute": ("dp", "disputes"),
    "event": ("evt", "events"),
    "webhook_endpoint": ("we", "webhook_endpoints"),
    "setup_intent": ("seti", "setup_intents"),
    "payment_method": ("pm", "payment_methods"),
    "mandate": ("mandate", "mandates"),
}
KIND_BY_PATH = {path: kind for kind, (_prefix, path) in RESOURCES.items()}
# Form bodies carry only strings; Stripe types them from its schema. We only need
# the integer fields the stand-in (or an adapter under test) does arithmetic on.
INT_FIELDS = {"amount", "unit_amount", "quantity", "expires_at", "balance", "limit"}
_event_ids = itertools.count(1)


@functools.lru_cache(maxsize=1)
def load_fixtures():
    """Stripe's example objects by resource name, read from the shared checkout."""
    path = os.environ.get(FIXTURES_ENV)
    if not path:
        here = Path(__file__).resolve().parent
        candidates = (d / FIXTURES_RELPATH for d in (here, *here.parents))
        path = next((p for p in candidates if p.is_file()), None)
    if not path or not Path(path).is_file():
        raise FileNotFoundError(
            f"Stripe fixtures not found: set {FIXTURES_ENV} or put "
            f"{FIXTURES_RELPATH} in a parent directory of {Path(__file__).parent}"
        )
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["resources"]


def fixture(kind, **overlay):
    """A fresh copy of Stripe's example object of ``kind``, updated with ``overlay``."""
    obj = copy.deepcopy(load_fixtures()[kind])
    obj.update(overlay)
    return obj


def decode_form(pairs):
    """Turn Stripe's bracket notation (``a[b][0][c]=v``, ``e[]=x``) into nested data."""
    root = {}
    for key, value in pairs:
        node, name = root, key.split("[", 1)[0]
        for sub in re.findall(r"\[([^\]]*)\]", key[len(name) :]):
            node = node.setdefault(name, {})
            # Lists are built as int-keyed dicts first: indices may arrive unordered.
            name = len(node) if sub == "" else int(sub) if sub.isdigit() else sub
        node[name] = value
    return _listify(root)


def _listify(value):
    if not isinstance(value, dict):
        return value
    value = {k: _listify(v) for k, v in value.items()}
    if value and all(isinstance(k, int) for k in value):
        return [value[k] for k in sorted(value)]
    return value


def _coerce(params, key=None):
    """Type the form strings the stand-in computes with; metadata stays strings."""
    if isinstance(params, dict):
        return {k: v if k == "metadata" else _coerce(v, k) for k, v in params.items()}
    if isinstance(params, list):
        return [_coerce(v, key) for v in params]
    if key in INT_FIELDS and re.fullmatch(r"-?\d+", params):
        return int(params)
    return {"true": True, "false": False}.get(params, params)


def overlay(obj, params):
    """Apply create/update params to an object with Stripe's metadata semantics."""
    for key, value in params.items():
        if key == "expand":
            continue
        if key == "metadata":
            # Stripe merges metadata keys; an empty string unsets one (or all).
            meta = {} if value == "" else {**(obj.get("metadata") or {}), **value}
            obj["metadata"] = {k: v for k, v in meta.items() if v != ""}
        elif isinstance(value, dict) and isinstance(obj.get(key), dict):
            overlay(obj[key], value)
        else:
            obj[key] = value
    return obj


@dataclass
class Request:
    method: str
    path: str
    headers: CIDict
    params: dict
    body: bytes = b""
    status: int = 0  # set once answered, to assert on injected faults


class StripeError(Exception):
    def __init__(self, status, message, type_="invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


class StripeStandin(MethodsMixin, EventsMixin, HttpStandin):
    """Threaded fake Stripe API on 127.0.0.1; state lives in memory per instance.

    Its flows record the events Stripe would send (``record_events``):
    ``complete_session`` a ``checkout.session.completed``, a refund
    ``refund.created`` and ``charge.refunded``, an expiry
    ``checkout.session.expired``; ``GET /v1/events`` lists them. Nothing is
    delivered: tests post what they want to our endpoint. Saved methods,
    setup sessions and off-session charges: ``stripe_standin_methods``.
    """

    error = StripeError
    fixture = staticmethod(fixture)

    def __init__(self):
        super().__init__()
        self.handler_class = _Handler
        self.valid_keys = None  # None: any ``sk_test_`` key is accepted
        self.idempotent_replays = 0
        self.objects = {kind: {} for kind in RESOURCES}
        self.balance = fixture("balance")  # mutate it to change GET /v1/balance
        # The account's settlement currency (lower case) and today's rates
        # into it (``{"eur": 0.55}``: 1 EUR settles as 0.55 of it); ``None``:
        # every charge settles in its own currency.
        self.settlement = None
        self.fx_rates = {}
        self._idempotency = {}
        self._counters = {}
        self._routes = [
            ("GET", "/v1/balance", lambda params: self.balance),
            ("POST", "/v1/customers", self._create_customer),
            ("POST", "/v1/customers/([^/]+)", self._update_customer),
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("POST", "/v1/checkout/sessions/([^/]+)/expire", self._expire_session),
            ("POST", "/v1/refunds", self._create_refund),
            ("GET", "/v1/balance_transactions", self._list_balance_transactions),
            *self._init_events(),
            *self._init_methods(),
            ("GET", f"/v1/({'|'.join(KIND_BY_PATH)})/([^/]+)", self._retrieve),
        ]

    # -- helpers for tests -------------------------------------------------------

    def new_id(self, kind):
        with self._lock:
            n = self._counters[kind] = self._counters.get(kind, 0) + 1
        return f"{RESOURCES[kind][0]}_standin_{n}"

    def put(self, kind, obj):
        """Seed (from the fixture) or update (shallowly) a stored object; returns it."""
        with self._lock:
            obj_id = obj.get("id") or self.new_id(kind)
            stored = self.objects[kind].get(obj_id) or fixture(kind, created=_now())
            stored.update(obj, id=obj_id)
            self.objects[kind][obj_id] = stored
            return stored

    def get(self, kind, obj_id):
        """The live stored object (mutate it to change what the API answers)."""
        return self.objects[kind].get(obj_id)

    @staticmethod
    def now():
        return _now()

    @staticmethod
    def make_event(*args, **kwargs):
        return make_event(*args, **kwargs)

    def complete_session(self, session_id, amount=None, created=None, method=None):
        """Pay a session as Stripe does: a payment intent, its charge and fee,
        and the ``checkout.session.completed`` event (at ``created``, epoch
        seconds: now by default) recorded, not delivered.

        ``method``: the payment method test id the payer used (see
        ``stripe_standin_methods``); a debit (``pm_sepa_debit``) leaves the
        session unpaid and its intent processing (``payment_intent.processing``
        recorded too) until ``settle_processing``. A session asking
        ``setup_future_usage`` saves the method (``pm_card_visa`` when none is
        given) on its customer."""
        with self._lock:
            session = self.get("checkout.session", session_id)
            if session is None:
                raise KeyError(session_id)
            pi_id, ch_id = self.new_id("payment_intent"), self.new_id("charge")
            intent_data = session.get("payment_intent_data") or {}
            future = intent_data.get("setup_future_usage")
            if future and not method:
                method = "pm_card_visa"
            common = {
                "amount": session["amount_total"] if amount is None else amount,
                "currency": session["currency"],
                "customer": session["customer"],
                # Stripe copies payment_intent_data.metadata onto the intent.
                "metadata": intent_data.get("metadata", {}),
            }
            if method:
                return self._complete_with_method(
                    session, common, method, future, (pi_id, ch_id), created
                )
            txn = self._balance_transaction(common, ch_id, "charge", with_fee=True)
            charge = self.put(
                "charge",
                {
                    **common,
                    "id": ch_id,
                    "amount_captured": common["amount"],
                    "captured": True,
                    "paid": True,
                    "status": "succeeded",
                    "payment_intent": pi_id,
                    "balance_transaction": txn["id"],
                },
            )
            intent = self.put(
                "payment_intent",
                {
                    **common,
                    "id": pi_id,
                    "amount_received": common["amount"],
                    "status": "succeeded",
                    "latest_charge": ch_id,
                    "last_payment_error": None,
                    "canceled_at": None,
                    "client_secret": f"{pi_id}_secret_standin",
                },
            )
            session.update(
                status="complete", payment_status="paid", payment_intent=pi_id
            )
            event = self._record("checkout.session.completed", session, created)
            return {
                "session": session,
                "payment_intent": intent,
                "charge": charge,
                "balance_transaction": txn,
                "event": event,
            }

    def _complete_with_method(self, session, common, method, future, ids, created):
        intent, charge, txn, outcome = self._pay(common, method, *ids)
        intent["setup_future_usage"] = future or None
        if future:
            self.payment_method(method, session.get("customer"))
        status = outcome[0]
        if status not in ("succeeded", "processing"):
            raise ValueError(f"{method} declines: a session is not paid with it")
        paid = "paid" if status == "succeeded" else "unpaid"
        session.update(
            status="complete", payment_status=paid, payment_intent=intent["id"]
        )
        event = self._record("checkout.session.completed", session, created)
        if status == "processing":
            self._record("payment_intent.processing", intent, created)
        return {
            "session": session,
            "payment_intent": intent,
            "charge": charge,
            "balance_transaction": txn,
            "event": event,
        }

    # -- request handling --------------------------------------------------------

    def handle(self, req):
        """Answer one request: returns ``(status, body, extra headers)``."""
        self.requests.append(req)
        self.pause(req)  # outside the lock: concurrent clients overlap
        with self._lock:
            try:
                self._check_fault(req.path)
                self._check_auth(req.headers.get("Authorization", ""))
                return self._answer_idempotently(req)
            except StripeError as exc:
                return exc.status, exc.body, {}

    def _check_fault(self, path):
        status = self.take_fault(path)
        if status:
            type_ = "api_error" if status >= 500 else "invalid_request_error"
            raise StripeError(status, f"Injected fault ({status})", type_)

    def _check_auth(self, header):
        key = header.removeprefix("Bearer ").strip()
        if not key:
            raise StripeError(401, "You did not provide an API key.")
        valid = (
            key in self.valid_keys if self.valid_keys else key.startswith("sk_test_")
        )
        if not valid:
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}***{key[-4:]}")

    def _answer_idempotently(self, req):
        # Stripe replays the first answer for a key. Injected faults and auth
        # failures never get here, so a retry with the same key does the work.
        key = req.headers.get("Idempotency-Key")
        slot = (key, req.method, req.path)
        if key and slot in self._idempotency:
            params, status, body = self._idempotency[slot]
            if params != req.params:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same "
                    f"parameters they were first used with: {key}",
                    "idempotency_error",
                )
            self.idempotent_replays += 1
            return status, json.loads(body), {"Idempotent-Replayed": "true"}
        try:
            status, body = self._route(req)
        except StripeError as exc:
            # A declined card (402) is a result: Stripe replays it for the key.
            if not (key and req.method == "POST" and exc.status == 402):
                raise
            status, body = exc.status, exc.body
        if key and req.method == "POST":
            self._idempotency[slot] = (req.params, status, json.dumps(body))
        return status, body, {}

    def _route(self, req):
        for method, pattern, handler in self._routes:
            match = re.fullmatch(pattern, req.path)
            if match and method == req.method:
                obj = handler(_coerce(req.params), *match.groups())
                # Answer a copy: later changes must not leak into recorded answers.
                body = self._expand(copy.deepcopy(obj), req.params.get("expand", []))
                return 200, body
        raise StripeError(404, f"Unrecognized request URL ({req.method}: {req.path}).")

    def _expand(self, obj, paths):
        """Replace expanded ids by their objects (``a.b``, ``data.a`` for lists)."""
        for path in paths:
            head, _, rest = path.partition(".")
            if head == "data" and isinstance(obj.get("data"), list):
                obj["data"] = [self._expand(item, [rest]) for item in obj["data"]]
            elif isinstance(obj.get(head), str):
                found = [s[obj[head]] for s in self.objects.values() if obj[head] in s]
                if found:
                    obj[head] = self._expand(
                        copy.deepcopy(found[0]), [rest] if rest else []
                    )
        return obj

    # -- resources ---------------------------------------------------------------

    def _retrieve(self, params, collection, obj_id):
        kind = KIND_BY_PATH[collection]
        obj = self.get(kind, obj_id)
        if obj is None:
            raise StripeError(
                404, f"No such {kind}: '{obj_id}'", code="resource_missing", param="id"
            )
        return obj

    def _create_customer(self, params):
        return self.put("customer", overlay(fixture("customer", id=None), params))

    def _update_customer(self, params, obj_id):
        return overlay(self._retrieve(params, "customers", obj_id), params)

    def _create_session(self, params):
        items = params.pop("line_items", [])
        prices = [item.get("price_data", {}) for item in items]
        total = sum(
            price.get("unit_amount", 0) * item.get("quantity", 1)
            for price, item in zip(prices, items, strict=True)
        )
        currency = next((p["currency"] for p in prices if "currency" in p), None)
        currency = currency or params.get("currency")
        session_id = self.new_id("checkout.session")
        # The example is a paid session: reset what only a paid one has.
        session = fixture(
            "checkout.session",
            id=session_id,
            created=_now(),
            expires_at=_now() + 24 * 3600,
            amount_total=total,
            amount_subtotal=total,
            currency=currency,
            status="open",
            payment_status="unpaid",
            payment_intent=None,
            customer_details=None,
            url=f"{self.url}/pay/{session_id}",
        )
        session = self.put("checkout.session", overlay(session, params))
        if session.get("mode") == "setup":
            self._setup_session(session)
        return session

    def _expire_session(self, params, session_id):
        session = self._retrieve(params, "checkout/sessions", session_id)
        if session["status"] != "open":
            raise StripeError(
                400,
                f"This Checkout Session is {session['status']}: only open sessions "
                "can be expired.",
            )
        session["status"] = "expired"
        self._record("checkout.session.expired", session)
        return session

    def _create_refund(self, params):
        charge_id = params.get("charge")
        if not charge_id and params.get("payment_intent"):
            intent = self._retrieve(params, "payment_intents", params["payment_intent"])
            charge_id = intent["latest_charge"]
        if not charge_id:
            raise StripeError(400, "Missing required param: charge.", param="charge")
        charge = self._retrieve(params, "charges", charge_id)
        left = charge["amount"] - charge["amount_refunded"]
        amount = params.get("amount", left)
        if not 0 < amount <= left:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than the unrefunded amount "
                f"on charge ({left}).",
                param="amount",
            )
        refund_id = self.new_id("refund")
        common = {"amount": amount, "currency": charge["currency"]}
        txn = self._balance_transaction(
            {**common, "amount": -amount}, refund_id, "refund"
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = fixture(
            "refund",
            **common,
            id=refund_id,
            created=_now(),
            charge=charge_id,
            payment_intent=charge["payment_intent"],
            status="succeeded",
            balance_transaction=txn["id"],
        )
        refund = self.put("refund", overlay(refund, params))
        self._record("refund.created", refund)
        # The charge lists its refunds, newest first.
        listed = [
            r for r in self.objects["refund"].values() if r.get("charge") == charge_id
        ]
        refunds = {
            "object": "list",
            "data": listed[::-1],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        }
        self._record("charge.refunded", {**charge, "refunds": refunds})
        return refund

    def _balance_transaction(self, common, source, type_, with_fee=False):
        amount, currency = common["amount"], common["currency"]
        more = {}
        if self.settlement and currency != self.settlement:
            # Stripe converts at the day's rate into the settlement currency;
            # amount, fee and net are then all in that currency.
            rate = self.fx_rates[currency]
            amount, currency = round(amount * rate), self.settlement
            more["exchange_rate"] = rate
        # Stripe's standard card pricing: 2.9% (rounded half up) + 30 minor units.
        fee = (abs(amount) * 29 + 500) // 1000 + 30 if with_fee else 0
        details = [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        return self.put(
            "balance_transaction",
            {
                "amount": amount,
                "currency": currency,
                "fee": fee,
                "net": amount - fee,
                "fee_details": details if fee else [],
                "source": source,
                "type": type_,
                "reporting_category": type_,
                "status": "available",
                **more,
            },
        )

    def _list_balance_transactions(self, params):
        filters = {f: params[f] for f in ("type", "source", "payout") if f in params}
        txns = [
            txn
            for txn in reversed(self.objects["balance_transaction"].values())
            if all(txn.get(f) == value for f, value in filters.items())
        ]
        if params.get("starting_after"):
            ids = [txn["id"] for txn in txns]
            txns = txns[ids.index(params["starting_after"]) + 1 :]
        limit = params.get("limit", 10)
        return {
            "object": "list",
            "url": "/v1/balance_transactions",
            "data": txns[:limit],
            "has_more": len(txns) > limit,
        }


def _now():
    return int(time.time())


class _Handler(JsonHandler):
    def _serve(self):
        path, query, headers, body = self.read_request()
        pairs = parse_qsl(query, keep_blank_values=True)
        pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        req = Request(self.command, path, headers, decode_form(pairs), body)
        req.status, payload, extra = self.standin.handle(req)
        request_id = f"req_standin_{len(self.standin.requests)}"
        self.answer(req.status, payload, {"Request-Id": request_id, **extra})

    do_GET = do_POST = do_DELETE = _serve


def make_event(event_type, obj, event_id=None, created=None):
    """A webhook event shaped like Stripe's example, carrying ``obj``."""
    return fixture(
        "event",
        id=event_id or f"evt_standin_{next(_event_ids)}",
        created=created or _now(),
        type=event_type,
        data={"object": obj},
        request={"id": None, "idempotency_key": None},
    )


def sign(payload, secret, timestamp=None):
    """The ``Stripe-Signature`` header value for a raw webhook body."""
    import stripe  # only signing needs the SDK: the server itself is stdlib only

    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def signed_headers(payload, secret, timestamp=None):
    """Headers for POSTing a signed webhook body to our endpoint."""
    return {
        "Stripe-Signature": sign(payload, secret, timestamp),
        "Content-Type": "application/json",
    }
