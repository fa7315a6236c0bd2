"""A local HTTP stand-in for PayPal's REST API (OAuth, Orders v2, Payments v2,
webhook signature verification), for tests of the PayPal adapter.

Odoo-free, like ``stripe_standin``. Answers are shaped after PayPal's published
examples (create order → ``PAYER_ACTION_REQUIRED`` with a ``payer-action`` link,
captures with ``seller_receivable_breakdown``, refunds with an ``up`` link, errors
as ``{"name", "message", "debug_id", "details": [{"issue", "description"}]}``).
PayPal's fees are invented here (3.49 % + a fixed part): only their shape is real.
"""

import base64
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl

from .http_standin import CIDict, HttpStandin, JsonHandler
from .paypal_standin_events import EventsMixin
from .paypal_standin_reporting import ReportingMixin

ZERO_DECIMAL = {"HUF", "JPY", "TWD"}
CURRENCIES = set(
    "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP "
    "SGD SEK CHF THB USD".split()
)
SIGNING_KEY = b"paycrm-paypal-standin"  # stands in for PayPal's certificate
PUBLIC_API = "https://api-m.sandbox.paypal.com"  # hrefs PayPal puts in objects
# The webhook id PayPal shows for a subscribed URL (its documented example value).
WEBHOOK_ID = "1JE4291016473214C"
_event_ids = itertools.count(1)


class PaypalError(Exception):
    def __init__(self, status, name, message, issue="", description=""):
        super().__init__(message)
        self.status = status
        self.body = {"name": name, "message": message, "debug_id": "f1e2d3c4b5a69"}
        if issue:
            self.body["details"] = [{"issue": issue, "description": description}]


def _unprocessable(issue, description):
    return PaypalError(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or "
        "failed business validation.",
        issue,
        description,
    )


def _not_found(resource_id):
    return PaypalError(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        f"Specified resource ID {resource_id} does not exist. Please check the "
        "resource ID and try again.",
    )


def money(value, currency):
    """PayPal's money object for a ``Decimal`` in major units."""
    places = Decimal(1) if currency in ZERO_DECIMAL else Decimal("0.01")
    text = str(Decimal(value).quantize(places, rounding=ROUND_HALF_UP))
    return {"currency_code": currency, "value": text}


def iso_now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Request:
    method: str
    path: str
    headers: CIDict
    body: bytes
    json: object = None
    status: int = 0
    query: str = ""


class PaypalStandin(EventsMixin, ReportingMixin, HttpStandin):
    """Threaded fake PayPal API on 127.0.0.1; state lives in memory per instance.

    Its flows record the events PayPal would send (``record_events``): a
    capture ``PAYMENT.CAPTURE.COMPLETED`` (or ``PENDING``), a refund
    ``PAYMENT.CAPTURE.REFUNDED``; ``GET /v1/notifications/webhooks-events``
    lists them. Nothing is delivered: tests post what they want.
    """

    money = staticmethod(money)
    error = PaypalError
    not_found = staticmethod(_not_found)

    def __init__(self, client_id="client_test", secret="secret_test"):
        super().__init__()
        self.handler_class = _Handler
        self.credentials = {(client_id, secret)}
        self.token_lifetime = 32400  # seconds, as PayPal answers in expires_in
        self.tokens = set()  # tokens PayPal would still accept
        self.valid_signatures = True  # False: verification answers FAILURE
        self.next_capture_status = "COMPLETED"  # or PENDING, DECLINED
        self.orders, self.captures, self.refunds = {}, {}, {}
        self._replays = {}  # (PayPal-Request-Id, path) -> (status, body)
        self._ids = itertools.count(1)
        self._routes = [
            ("POST", "/v1/oauth2/token", self._token),
            ("POST", "/v2/checkout/orders", self._create_order),
            ("GET", "/v2/checkout/orders/([^/]+)", self._get_order),
            ("POST", "/v2/checkout/orders/([^/]+)/capture", self._capture),
            ("GET", "/v2/payments/captures/([^/]+)", self._get_capture),
            ("POST", "/v2/payments/captures/([^/]+)/refund", self._refund),
            ("GET", "/v2/payments/refunds/([^/]+)", self._get_refund),
            ("POST", "/v1/notifications/verify-webhook-signature", self._verify),
            *self._init_reporting(),
            *self._init_events(WEBHOOK_ID),
        ]

    # -- helpers for tests -------------------------------------------------------

    def expire_tokens(self):
        """Every access token handed out so far stops working (as on expiry)."""
        with self._lock:
            self.tokens.clear()

    def approve_order(self, order_id, email="buyer@example.com"):
        """What the payer does on PayPal's page: the order becomes capturable."""
        with self._lock:
            order = self.orders[order_id]
            order["status"] = "APPROVED"
            payer = {"email_address": email, "payer_id": "QYR5Z8XDVJNXQ"}
            order["payer"] = payer
            order["payment_source"] = {
                "paypal": {**payer, "account_status": "VERIFIED"}
            }
            order["links"] = [_self_link("checkout/orders", order_id)]
            return order

    def new_id(self, tag):
        return f"{tag}{next(self._ids):0{17 - len(tag)}d}"

    # -- request handling --------------------------------------------------------

    def handle(self, req):
        self.requests.append(req)
        self.pause(req)
        with self._lock:
            try:
                self._check_fault(req.path)
                if req.path != "/v1/oauth2/token":
                    self._check_token(req.headers.get("Authorization", ""))
                return self._route(req)
            except PaypalError as exc:
                return exc.status, exc.body

    def _check_fault(self, path):
        status = self.take_fault(path)
        if status:
            raise PaypalError(
                status,
                "INTERNAL_SERVER_ERROR",
                "An internal server error occurred.",
            )

    def _check_token(self, header):
        if header.removeprefix("Bearer ").strip() not in self.tokens:
            error = PaypalError(401, "invalid_token", "Access Token not found in cache")
            # OAuth-style body, as PayPal answers for an unknown or expired token.
            error.body = {"error": "invalid_token", "error_description": str(error)}
            raise error

    def _route(self, req):
        for method, pattern, handler in self._routes:
            match = re.fullmatch(pattern, req.path)
            if match and method == req.method:
                key = (req.headers.get("PayPal-Request-Id"), req.path)
                # PayPal answers a repeated request id with the first answer.
                if key[0] and key in self._replays:
                    status, body = self._replays[key]
                    return 200 if status == 201 else status, json.loads(body)
                status, body = handler(req, *match.groups())
                if key[0] and method == "POST":
                    self._replays[key] = (status, json.dumps(body))
                return status, copy.deepcopy(body)
        raise PaypalError(404, "NOT_FOUND", f"No route for {req.method} {req.path}")

    # -- resources ---------------------------------------------------------------

    def _token(self, req):
        auth = req.headers.get("Authorization", "").removeprefix("Basic ")
        try:
            client_id, _, secret = base64.b64decode(auth).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        form = dict(parse_qsl(req.body.decode()))
        if form.get("grant_type") != "client_credentials":
            raise PaypalError(400, "unsupported_grant_type", "Grant type is missing")
        if (client_id, secret) not in self.credentials:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client Authentication failed",
            }
        token = f"A21AA{hashlib.sha256(self.new_id('T').encode()).hexdigest()}"
        self.tokens.add(token)
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": self.token_lifetime,
            "nonce": f"{iso_now()}standin",
        }

    def _create_order(self, req):
        body = req.json or {}
        units = body.get("purchase_units") or []
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE") or not units:
            raise PaypalError(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates "
                "schema.",
                "MISSING_REQUIRED_PARAMETER",
                "intent and purchase_units are required.",
            )
        for unit in units:
            _check_amount(unit.get("amount") or {})
            for key in ("custom_id", "invoice_id"):
                if len(unit.get(key) or "") > 127:
                    raise _unprocessable("INVALID_PARAMETER_VALUE", f"{key} too long")
        order_id = self.new_id("ORDER")
        context = (body.get("payment_source") or {}).get("paypal")
        # With payment_source.paypal PayPal answers PAYER_ACTION_REQUIRED and a
        # payer-action link; the older application_context gives CREATED/approve.
        rel = "payer-action" if context is not None else "approve"
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if context is not None else "CREATED",
            "payment_source": {"paypal": {}},
            "purchase_units": [
                {**copy.deepcopy(u), "payee": {"merchant_id": "C7CYMKZDG8D6E"}}
                for u in units
            ],
            "create_time": iso_now(),
            "links": [
                _self_link("checkout/orders", order_id),
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                    "rel": rel,
                    "method": "GET",
                },
            ],
            "request": copy.deepcopy(body),  # for assertions; PayPal has no such key
        }
        self.orders[order_id] = order
        return 201, {k: v for k, v in order.items() if k != "request"}

    def _order(self, order_id):
        if order_id not in self.orders:
            raise _not_found(order_id)
        return self.orders[order_id]

    def _get_order(self, req, order_id):
        return 200, {k: v for k, v in self._order(order_id).items() if k != "request"}

    def _capture(self, req, order_id):
        order = self._order(order_id)
        if order["status"] == "COMPLETED":
            raise _unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.If 'intent=CAPTURE' only one capture per "
                "order is allowed.",
            )
        if order["status"] != "APPROVED":
            raise _unprocessable(
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment.",
            )
        if self.next_capture_status == "DECLINED":
            raise _unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or "
                "bank, or it can't be used for this payment.",
            )
        unit = order["purchase_units"][0]
        currency = unit["amount"]["currency_code"]
        gross = Decimal(unit["amount"]["value"])
        capture_id = self.new_id("CAPT")
        capture = {
            "id": capture_id,
            "status": self.next_capture_status,
            "amount": money(gross, currency),
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "custom_id": unit.get("custom_id", ""),
            "invoice_id": unit.get("invoice_id", ""),
            "links": [
                _self_link("payments/captures", capture_id),
                {
                    "href": f"{PUBLIC_API}/v2/payments/captures/{capture_id}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
                {**_self_link("checkout/orders", order_id), "rel": "up"},
            ],
            "create_time": iso_now(),
            "update_time": iso_now(),
            "supplementary_data": {"related_ids": {"order_id": order_id}},
        }
        if self.next_capture_status == "PENDING":
            # PayPal gives no breakdown for captures still pending.
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        else:
            fee = gross * Decimal("0.0349") + _fixed_fee(currency)
            fee = Decimal(money(fee, currency)["value"])
            capture["seller_receivable_breakdown"] = {
                "gross_amount": money(gross, currency),
                "paypal_fee": money(fee, currency),
                "net_amount": money(gross - fee, currency),
            }
        self.captures[capture_id] = capture
        visible = {k: v for k, v in capture.items() if k != "supplementary_data"}
        unit["payments"] = {"captures": [visible]}
        order["status"] = "COMPLETED"
        self._record(
            self.capture_event(capture_id, f"PAYMENT.CAPTURE.{capture['status']}")
        )
        return 201, {k: v for k, v in order.items() if k != "request"}

    def _get_capture(self, req, capture_id):
        if capture_id not in self.captures:
            raise _not_found(capture_id)
        return 200, self.captures[capture_id]

    def _refund(self, req, capture_id):
        if capture_id not in self.captures:
            raise _not_found(capture_id)
        capture = self.captures[capture_id]
        currency = capture["amount"]["currency_code"]
        refunded = sum(
            Decimal(r["amount"]["value"])
            for r in self.refunds.values()
            if r["capture_id"] == capture_id
        )
        left = Decimal(capture["amount"]["value"]) - refunded
        if left <= 0:
            raise _unprocessable(
                "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."
            )
        amount = (req.json or {}).get("amount") or money(left, currency)
        if amount.get("currency_code") != currency:
            raise _unprocessable(
                "REFUND_CAPTURE_CURRENCY_MISMATCH",
                "Refund must be in the same currency as the capture.",
            )
        _check_amount(amount)
        value = Decimal(amount["value"])
        if value > left:
            raise _unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount "
                "that has not yet been refunded.",
            )
        # PayPal returns the variable part of its fee, pro rata; the fixed part stays.
        fee_back = Decimal(money(value * Decimal("0.0349"), currency)["value"])
        refund_id = self.new_id("REFD")
        refund = {
            "id": refund_id,
            "amount": money(value, currency),
            "seller_payable_breakdown": {
                "gross_amount": money(value, currency),
                "paypal_fee": money(fee_back, currency),
                "net_amount": money(value - fee_back, currency),
                "total_refunded_amount": money(refunded + value, currency),
            },
            "custom_id": capture.get("custom_id", ""),
            "invoice_id": capture.get("invoice_id", ""),
            "status": "COMPLETED",
            "create_time": iso_now(),
            "update_time": iso_now(),
            "links": [
                _self_link("payments/refunds", refund_id),
                {**_self_link("payments/captures", capture_id), "rel": "up"},
            ],
            "capture_id": capture_id,  # bookkeeping of the stand-in
        }
        self.refunds[refund_id] = refund
        capture["status"] = "REFUNDED" if value == left else "PARTIALLY_REFUNDED"
        self._record(self.refund_event(refund_id))
        return 201, {k: v for k, v in refund.items() if k != "capture_id"}

    def _get_refund(self, req, refund_id):
        if refund_id not in self.refunds:
            raise _not_found(refund_id)
        refund = self.refunds[refund_id]
        return 200, {k: v for k, v in refund.items() if k != "capture_id"}

    def _verify(self, req):
        body = req.json or {}
        required = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        missing = [name for name in required if not body.get(name)]
        if missing:
            raise PaypalError(
                400,
                "VALIDATION_ERROR",
                "Invalid request - see details",
                "MISSING_REQUIRED_FIELD",
                f"{missing[0]} is required",
            )
        expected = transmission_sig(
            body["webhook_event"],
            body["webhook_id"],
            body["transmission_id"],
            body["transmission_time"],
        )
        valid = self.valid_signatures and hmac.compare_digest(
            expected, body["transmission_sig"]
        )
        return 200, {"verification_status": "SUCCESS" if valid else "FAILURE"}

    # -- webhook events ----------------------------------------------------------

    def capture_event(self, capture_id, event_type="PAYMENT.CAPTURE.COMPLETED"):
        capture = copy.deepcopy(self.captures[capture_id])
        if event_type == "PAYMENT.CAPTURE.DENIED":
            capture["status"] = "DECLINED"
            capture.pop("seller_receivable_breakdown", None)
        return make_event(event_type, "capture", capture)

    def refund_event(self, refund_id, event_type="PAYMENT.CAPTURE.REFUNDED"):
        refund = {k: v for k, v in self.refunds[refund_id].items() if k != "capture_id"}
        return make_event(event_type, "refund", refund)

    def dispute_event(
        self, capture_id, event_type, outcome="", amount=None, dispute_id=None
    ):
        capture = self.captures[capture_id]
        disputed = amount or capture["amount"]
        resource = {
            "dispute_id": dispute_id or f"PP-D-{next(self._ids)}",
            "create_time": iso_now(),
            "update_time": iso_now(),
            "disputed_transactions": [
                {
                    "seller_transaction_id": capture_id,
                    "create_time": capture["create_time"],
                    "transaction_status": "COMPLETED",
                    "gross_amount": capture["amount"],
                    "invoice_number": capture.get("invoice_id", ""),
                    "custom": capture.get("custom_id", ""),
                }
            ],
            "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "status": "RESOLVED" if outcome else "OPEN",
            "dispute_amount": disputed,
            "dispute_life_cycle_stage": "CHARGEBACK",
            "dispute_channel": "INTERNAL",
        }
        if outcome:
            resource["dispute_outcome"] = {
                "outcome_code": outcome,
                "amount_refunded": disputed,
            }
        return make_event(event_type, "dispute", resource)


def _self_link(collection, obj_id):
    return {
        "href": f"{PUBLIC_API}/v2/{collection}/{obj_id}",
        "rel": "self",
        "method": "GET",
    }


def _fixed_fee(currency):
    return Decimal(40) if currency in ZERO_DECIMAL else Decimal("0.49")


def _check_amount(amount):
    currency, value = amount.get("currency_code"), str(amount.get("value") or "")
    if currency not in CURRENCIES:
        raise _unprocessable(
            "CURRENCY_NOT_SUPPORTED", f"Currency code {currency} is not supported."
        )
    decimals = len(value.partition(".")[2])
    if decimals > (0 if currency in ZERO_DECIMAL else 2) or not value:
        raise _unprocessable(
            "DECIMAL_PRECISION",
            "If the currency supports decimals, only two decimal place precision "
            "is supported.",
        )
    if Decimal(value) <= 0:
        raise _unprocessable("AMOUNT_MISMATCH", "The amount must be positive.")


def _canonical(event):
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode()


def transmission_sig(event, webhook_id, transmission_id, transmission_time):
    """The stand-in's signature: over the ids, the time and the event's content."""
    digest = hashlib.sha256(_canonical(event)).hexdigest()
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{digest}"
    return hmac.new(SIGNING_KEY, message.encode(), hashlib.sha256).hexdigest()


def make_event(event_type, resource_type, resource, event_id=None):
    """A webhook event in PayPal's envelope, carrying ``resource``."""
    event_id = event_id or f"WH-STANDIN{next(_event_ids):07d}-0EV74XT6L6G2L"
    hook = f"{PUBLIC_API}/v1/notifications/webhooks-events/{event_id}"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": iso_now(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} (stand-in)",
        "resource": resource,
        "links": [
            {"href": hook, "rel": "self", "method": "GET"},
            {"href": f"{hook}/resend", "rel": "resend", "method": "POST"},
        ],
    }


def webhook_headers(payload, webhook_id, transmission_id=None):
    """Headers PayPal sends with a webhook body (``payload``: bytes or dict)."""
    event = json.loads(payload) if isinstance(payload, bytes | str) else payload
    transmission_id = transmission_id or f"{next(_event_ids)}-d67a-11e5-baa3"
    stamp = iso_now()
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": stamp,
        "PAYPAL-TRANSMISSION-SIG": transmission_sig(
            event, webhook_id, transmission_id, stamp
        ),
        "PAYPAL-CERT-URL": f"{PUBLIC_API}/v1/notifications/certs/CERT-360caa42",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "Content-Type": "application/json",
    }


class _Handler(JsonHandler):
    def _serve(self):
        path, query, headers, body = self.read_request()
        parsed = None
        if "json" in (headers.get("Content-Type") or "") and body:
            with contextlib.suppress(ValueError):
                parsed = json.loads(body)
        req = Request(self.command, path, headers, body, parsed, query=query)
        req.status, payload = self.standin.handle(req)
        self.answer(req.status, payload, {"Paypal-Debug-Id": "f1e2d3c4b5a69"})

    do_GET = do_POST = do_PATCH = _serve
