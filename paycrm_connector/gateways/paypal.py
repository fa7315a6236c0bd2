"""PayPal through its REST API: Orders v2, Payments v2, webhook verification.

Plain ``requests`` (PayPal has no maintained server SDK for Python): one session
per adapter with urllib3 retries on connection errors and 5xx, POSTs included,
because every POST carries a ``PayPal-Request-Id`` that makes PayPal answer a
repeat with the first result instead of doing the work twice.
"""

import dataclasses
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from odoo.tools import LazyTranslate

from .. import const
from . import money, paypal_events, paypal_reporting
from .base import (
    CheckoutSession,
    GatewayAdapter,
    GatewayAuthError,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
    load_event,
    unreachable,
)
from .paypal_events import decode_custom_id, encode_custom_id, link, money_minor
from .paypal_sync import PaypalSyncMixin
from .signature import SignatureError

_lt = LazyTranslate(__name__, default_lang="en_US")

SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
LIVE_API_BASE = "https://api-m.paypal.com"
# Renew a cached token this many seconds before PayPal says it lapses, so no call
# starts with a token that expires in flight (PayPal's tokens live ~9 hours).
TOKEN_EXPIRY_MARGIN = 300
RETRY_STATUSES = (500, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "POST", "PATCH", "DELETE"})
# Capture refusals a returning payer can act on -> ``CheckoutSession.status``:
# back to the pay page (not approved, lapsed) or back to PayPal (declined).
RETURN_ISSUES = {
    "ORDER_NOT_APPROVED": "open",
    "PAYER_ACTION_REQUIRED": "open",
    "INSTRUMENT_DECLINED": "declined",
    "INVALID_RESOURCE_ID": "expired",
}
CAPTURE_STATES = {"COMPLETED": "complete", "PENDING": "pending"}
# Webhook request headers -> fields of the verify-webhook-signature request.
TRANSMISSION_HEADERS = {
    "paypal-transmission-id": "transmission_id",
    "paypal-transmission-time": "transmission_time",
    "paypal-transmission-sig": "transmission_sig",
    "paypal-cert-url": "cert_url",
    "paypal-auth-algo": "auth_algo",
}
# Access tokens shared by all adapters of a process, per (API base, client id,
# secret digest): a changed secret never reuses a token minted with the old one.
_tokens = {}
_token_locks = {}
_tokens_guard = threading.Lock()


def clear_token_cache():
    with _tokens_guard:
        _tokens.clear()


def _token_lock(key):
    with _tokens_guard:
        return _token_locks.setdefault(key, threading.Lock())


def not_paypal(status):
    """The error for an answer that did not come from PayPal's API."""
    return GatewayError(
        _lt(
            "the API base URL sent HTTP %(status)s with an answer that is not "
            "PayPal's — check the API Base URL, or leave it empty for PayPal itself",
            status=status,
        )
    )


def build_session(retries):
    """A session that retries connection errors and 5xx answers ``retries`` times."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        backoff_factor=0.5,
        raise_on_status=False,  # the last 5xx answer is mapped to a message below
    )
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(max_retries=retry))
    return session


class PaypalRefused(GatewayRefused):
    """A 4xx from PayPal; ``issue`` is PayPal's code, e.g. ORDER_NOT_APPROVED."""

    def __init__(self, message, issue="", http_status=0):
        super().__init__(message)
        self.issue = issue
        self.http_status = http_status


@dataclass(frozen=True)
class PaypalCapture:
    order_id: str
    capture_id: str
    status: str  # PayPal's capture status: COMPLETED, PENDING, DECLINED, ...
    amount_minor: int
    currency: str
    fee_minor: int = 0
    invoice_id: int | None = None
    order: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PaypalRefund:
    refund_id: str
    capture_id: str
    status: str
    amount_minor: int
    currency: str
    raw: dict = field(default_factory=dict, compare=False, repr=False)


class PaypalAdapter(PaypalSyncMixin, GatewayAdapter):
    code = "paypal"
    refused_class = PaypalRefused
    # The map ``paypal_events.envelope`` (PayPal's shape of it) reads.
    event_kinds = const.PAYPAL_EVENT_KINDS
    pay_label = _lt("Pay with PayPal")
    wallet = True
    config_fields = {"client_id": "paypal_client_id", "webhook_id": "paypal_webhook_id"}

    @classmethod
    def envelope(cls, event):
        return paypal_events.envelope(event)

    def __init__(self, config, session=None):
        super().__init__(config)
        extra = config.extra or {}
        self.client_id = extra.get("client_id") or ""
        self.webhook_id = extra.get("webhook_id") or ""
        default_base = LIVE_API_BASE if config.live else SANDBOX_API_BASE
        self.api_base = (config.api_base or default_base).rstrip("/")
        self.mode = "live" if config.live else "sandbox"
        self.session = session or build_session(config.max_retries)

    @staticmethod
    def quote_id(resource_id):
        return _q(resource_id)

    # ------------------------------------------------------------------ HTTP

    def _send(self, method, path, **kwargs):
        try:
            return self.session.request(
                method, self.api_base + path, timeout=self.config.timeout, **kwargs
            )
        except requests.RequestException as exc:
            # Behind urllib3's retries a read timeout arrives as a
            # ConnectionError naming the ReadTimeoutError it wraps.
            timed_out = isinstance(exc, requests.Timeout) or "Timeout" in str(exc)
            raise unreachable(timed_out, self.config.timeout) from exc

    def _check(self, response):
        """The JSON body of a 2xx answer; plain-words errors for the rest."""
        status = response.status_code
        if status < 300:
            return _json(response)
        if status >= 500:
            raise GatewayUnreachable(
                _lt("gateway error (HTTP %(status)s) — try again later", status=status)
            )
        if status == 429:
            raise GatewayUnreachable(
                _lt("gateway busy (rate limited) — try again in a minute")
            )
        if status == 401:
            raise GatewayAuthError(
                _lt("authentication failed — check the client id and secret")
            )
        if status == 403:
            raise GatewayAuthError(
                _lt(
                    "the PayPal app lacks permission for this call — check its "
                    "features in the PayPal developer dashboard"
                )
            )
        issue, description = _first_issue(_json(response))
        if not issue:
            raise not_paypal(status)
        message = _lt("gateway refused the request: %(issue)s", issue=issue)
        if description:
            message = _lt(
                "gateway refused the request: %(issue)s — %(description)s",
                issue=issue,
                description=description,
            )
        raise PaypalRefused(message, issue=issue, http_status=status)

    def _access_token(self, refresh=False):
        if not self.client_id:
            raise GatewayAuthError(
                _lt("no client id configured — paste it on the gateway")
            )
        if not self.config.secret_key:
            raise GatewayAuthError(
                _lt("no client secret configured — paste it on the gateway")
            )
        digest = hashlib.sha256(self.config.secret_key.encode()).hexdigest()
        key = (self.api_base, self.client_id, digest)
        # One lock per key: concurrent callers wait for one token request
        # instead of each minting their own.
        with _token_lock(key):
            cached = _tokens.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
            response = self._send(
                "POST",
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.config.secret_key),
                headers={"Accept": "application/json"},
            )
            status = response.status_code
            # PayPal refuses credentials with a 401, or a 400/403 carrying an
            # OAuth error; other answers there come from another server.
            if status == 401 or (
                status in (400, 403) and isinstance(_json(response).get("error"), str)
            ):
                raise GatewayAuthError(
                    _lt("authentication failed — check the client id and secret")
                )
            body = self._check(response)
            token, lifetime = body.get("access_token"), body.get("expires_in", 0)
            if not (token and isinstance(token, str) and isinstance(lifetime, int)):
                raise not_paypal(status)
            _tokens[key] = (token, time.monotonic() + lifetime - TOKEN_EXPIRY_MARGIN)
            return token

    def _api(self, method, path, body=None, idempotency_key=None, raw=None):
        """One authenticated call; a token rejected mid-session is renewed once."""
        headers = {"Prefer": "return=representation", "Accept": "application/json"}
        if method == "POST":
            headers["PayPal-Request-Id"] = idempotency_key or uuid.uuid4().hex
        kwargs = {"json": body}
        if raw is not None:
            kwargs = {"data": raw}
            headers["Content-Type"] = "application/json"
        response = None
        for refresh in (False, True):
            token = self._access_token(refresh=refresh)
            headers["Authorization"] = f"Bearer {token}"
            response = self._send(method, path, headers=headers, **kwargs)
            if response.status_code != 401:
                break
        return self._check(response)

    # -------------------------------------------------------------- contract

    def check_connection(self):
        # A fresh token, not a cached one: the point is to test these credentials.
        self._access_token(refresh=True)
        message = f"connected to PayPal ({self.mode})"
        if not self.webhook_id:
            message += " — no webhook id yet: paste it to receive payments"
        return message

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        # PayPal has no customer object for Orders v2 checkouts: the payer logs
        # in on PayPal's page. A stable reference keeps the caller's model uniform.
        return reference or f"paypal_{customer.partner_id}"

    def currency_exponent(self, currency, iso_decimals=None):
        exponent = money.paypal_exponent(currency)
        if exponent is None:
            raise GatewayRefused(
                _lt(
                    "PayPal does not accept %(currency)s — use another gateway for "
                    "this invoice",
                    currency=(currency or "").upper(),
                )
            )
        return exponent

    def create_checkout(self, request):
        currency = request.currency.upper()
        exponent = self.currency_exponent(currency)
        if request.amount_minor <= 0:
            raise GatewayRefused(_lt("nothing to pay: the amount must be positive"))
        meta = request.metadata or {}
        unit = {
            "reference_id": f"paycrm-{request.invoice_id}",
            "custom_id": encode_custom_id(request.invoice_id, meta),
            "invoice_id": _invoice_number(request.invoice_name, meta),
            "description": (request.description or request.invoice_name)[:127],
            "amount": {
                "currency_code": currency,
                "value": money.to_decimal_string(request.amount_minor, exponent),
            },
        }
        source = {
            "experience_context": {
                "return_url": request.success_url,
                "cancel_url": request.cancel_url,
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
            }
        }
        if request.customer_email:
            source["email_address"] = request.customer_email
        body = {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": source},
        }
        order = self._api("POST", "/v2/checkout/orders", body, request.idempotency_key)
        url = link(order, "payer-action") or link(order, "approve")
        if not url:
            raise GatewayError(
                _lt("PayPal returned no approval link — try again later")
            )
        latest = int(time.time() + const.PAYPAL_ORDER_MAX_HOURS * 3600)
        return CheckoutSession(
            session_id=order["id"],
            url=url,
            amount_minor=request.amount_minor,
            currency=currency,
            expires_at=min(request.expires_at or latest, latest),
        )

    def expire_checkout(self, session_id):
        """PayPal has no call to void an unapproved order: it lapses by itself."""
        return None

    def get_order(self, order_id):
        return self._api("GET", f"/v2/checkout/orders/{_q(order_id)}")

    def get_capture(self, capture_id):
        return self._api("GET", f"/v2/payments/captures/{_q(capture_id)}")

    def capture_order(self, order_id, idempotency_key):
        """Capture an approved order; an order captured before is not an error."""
        path = f"/v2/checkout/orders/{_q(order_id)}/capture"
        try:
            order = self._api("POST", path, {}, idempotency_key)
        except PaypalRefused as exc:
            # The customer reloaded the return page, or the webhook side got
            # there first: answer with the existing capture.
            if exc.issue != "ORDER_ALREADY_CAPTURED":
                raise
            order = self.get_order(order_id)
        captures = [
            capture
            for unit in order.get("purchase_units") or []
            for capture in (unit.get("payments") or {}).get("captures") or []
        ]
        if not captures:
            raise GatewayRefused(
                _lt(
                    "PayPal order %(order)s has no capture (status %(status)s)",
                    order=order_id,
                    status=order.get("status", "?"),
                )
            )
        capture = captures[0]
        amount, currency = money_minor(capture.get("amount"))
        breakdown = capture.get("seller_receivable_breakdown") or {}
        return PaypalCapture(
            order_id=order.get("id") or order_id,
            capture_id=capture["id"],
            status=capture.get("status") or "",
            amount_minor=amount,
            currency=currency,
            fee_minor=money_minor(breakdown.get("paypal_fee"))[0],
            invoice_id=decode_custom_id(capture.get("custom_id")).get("inv"),
            order=order,
        )

    def complete_checkout(self, session_id, idempotency_key):
        """Capture the order its payer approved; refusals become a status."""
        try:
            capture = self.capture_order(session_id, idempotency_key)
        except PaypalRefused as exc:
            status = RETURN_ISSUES.get(exc.issue)
            if status is None:
                raise
            return CheckoutSession(session_id, "", 0, "", 0, status=status)
        return CheckoutSession(
            session_id=capture.order_id,
            url="",
            amount_minor=capture.amount_minor,
            currency=capture.currency,
            expires_at=0,
            payment_ref=capture.capture_id,
            status=CAPTURE_STATES.get(capture.status, "failed"),
        )

    def enrich_event(self, event):
        """Complete an event that lacks its invoice from its capture.

        Refunds and disputes of captures made outside the order flow, or sent
        before PayPal copies ``custom_id`` onto them, still name the capture.
        """
        if event.invoice_id or not event.payment_ref or event.kind == "other":
            return event
        try:
            capture = self.get_capture(event.payment_ref)
        except PaypalRefused:
            return event  # a capture PayPal does not know: not ours
        meta = decode_custom_id(capture.get("custom_id"))
        changes = {"invoice_id": meta.get("inv"), "db": meta.get("db", event.db)}
        return dataclasses.replace(event, **changes)

    def refund(
        self, payment_ref, amount_minor, idempotency_key, metadata=None, currency=None
    ):
        if not currency:
            raise GatewayRefused(_lt("PayPal needs the currency of the refund"))
        note = (metadata or {}).get(const.META_INVOICE_NAME) or ""
        return self.refund_capture(
            payment_ref, amount_minor, currency, idempotency_key, note=note
        ).refund_id

    def refund_capture(
        self, capture_id, amount_minor, currency, idempotency_key, note=""
    ):
        currency = currency.upper()
        exponent = self.currency_exponent(currency)
        body = {
            "amount": {
                "currency_code": currency,
                "value": money.to_decimal_string(amount_minor, exponent),
            }
        }
        if note:
            body["note_to_payer"] = note[:255]
        path = f"/v2/payments/captures/{_q(capture_id)}/refund"
        result = self._api("POST", path, body, idempotency_key)
        amount, refund_currency = money_minor(result.get("amount"))
        return PaypalRefund(
            refund_id=result["id"],
            capture_id=capture_id,
            status=result.get("status") or "",
            amount_minor=amount or amount_minor,
            currency=refund_currency or currency,
            raw=result,
        )

    def verify_webhook(self, payload, headers):
        """Ask PayPal whether it sent ``payload``; never answers 'yes' on doubt.

        Raises ``SignatureError`` when PayPal says no (or the request is
        malformed), ``GatewayError`` when PayPal could not be asked (store the
        event and verify again later).
        """
        if not self.webhook_id:
            raise SignatureError("no PayPal webhook id configured")
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        fields = {name: lowered.get(h) for h, name in TRANSMISSION_HEADERS.items()}
        if not all(fields.values()):
            raise SignatureError("missing PayPal transmission headers")
        raw = payload if isinstance(payload, bytes) else payload.encode()
        # PayloadError (not JSON, too deep): a 400 before PayPal is asked.
        event = load_event(raw)
        # PayPal's signature covers the event as PayPal sent it: embed the raw
        # bytes, since a re-serialisation could differ and fail verification.
        head = json.dumps({**fields, "webhook_id": self.webhook_id})[:-1]
        body = head.encode() + b', "webhook_event": ' + raw.strip() + b"}"
        try:
            result = self._api(
                "POST", "/v1/notifications/verify-webhook-signature", raw=body
            )
        except PaypalRefused as exc:
            raise SignatureError(f"PayPal refused to verify the event: {exc}") from exc
        if result.get("verification_status") != "SUCCESS":
            raise SignatureError("PayPal did not confirm the webhook signature")
        return event

    def parse_event(self, event):
        return paypal_events.parse_event(event, live=self.config.live)

    # ------------------------------------------------------------- reporting

    def balance(self, currency):
        """The available balance in ``currency`` (Transaction Search API's
        balances; the app needs the Transaction Search feature)."""
        query = urlencode({"currency_code": currency.upper()})
        body = self._api("GET", f"/v1/reporting/balances?{query}")
        return paypal_reporting.balance_minor(body, currency)

    def balance_transactions(self, currency, since=0, limit=1000):
        """Movements after ``since`` (epoch seconds; none: as far back as
        PayPal searches), payouts left out, in the Stripe row shape."""
        end = int(time.time())
        start = int(since) + 1
        if not since:
            start = end - paypal_reporting.SEARCH_HISTORY_SECONDS
        rows = []
        for window_start, window_end in paypal_reporting.search_windows(start, end):
            page, pages = 1, 1
            while page <= pages and len(rows) < limit:
                query = urlencode(
                    {
                        "start_date": paypal_reporting.iso(window_start),
                        "end_date": paypal_reporting.iso(window_end),
                        "transaction_currency": currency.upper(),
                        "balance_affecting_records_only": "Y",
                        "fields": "all",
                        "page_size": paypal_reporting.SEARCH_PAGE_SIZE,
                        "page": page,
                    }
                )
                body = self._api("GET", f"/v1/reporting/transactions?{query}")
                rows += paypal_reporting.page_rows(body, currency)
                pages = int(body.get("total_pages") or 1)
                page += 1
        return rows[:limit]


# ----------------------------------------------------------------- helpers


def _invoice_number(name, metadata):
    # PayPal refuses a second payment with an invoice_id it has seen, by default:
    # a residual paid through a new link must not collide with the first payment.
    link_id = (metadata or {}).get(const.META_LINK_ID)
    return (f"{name}-{link_id}" if link_id else name)[:127]


def _q(resource_id):
    # Ids come back from customers' browsers (return URL): keep them in one segment.
    return quote(str(resource_id), safe="")


def _json(response):
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _first_issue(body):
    """PayPal's ``(issue, description)`` of an error body; an empty issue when
    the body has none of PayPal's error shapes."""
    details = body.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        detail = details[0]
        if isinstance(detail.get("issue"), str):
            return detail["issue"], _text(detail.get("description"))
    for issue, description in (("name", "message"), ("error", "error_description")):
        if body.get(issue) and isinstance(body[issue], str):
            return body[issue], _text(body.get(description))
    return "", ""


def _text(value):
    return value if isinstance(value, str) else ""
