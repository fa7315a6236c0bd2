"""The interface every gateway adapter implements, and its error types.

Adapters receive plain values (a ``GatewayConfig``, dataclasses) and return plain
values, so they can be tested without Odoo and the ORM never leaks into them.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate

from odoo.tools import LazyTranslate

from .. import const

# Lazy: messages are translated where they are shown (a webhook answer, a
# staff notification), in the language of that request or environment (none
# here); English when neither can be found.
_lt = LazyTranslate(__name__, default_lang="en_US")

# A JSON string (escapes included): its brackets do not nest anything.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class GatewayError(Exception):
    """A failure the user can act on; ``str(exc)`` is a plain-words message.

    Adapters raise it with a lazy message (``_lt``): ``str(exc)`` translates
    it into the language of the code that shows it (its ``self.env`` or the
    request's). Text the gateway itself sent stays as it came.
    """

    kind = "error"


class GatewayAuthError(GatewayError):
    kind = "auth"


class GatewayUnreachable(GatewayError):
    """Nothing answered in time, or a 5xx: worth retrying later."""

    kind = "unreachable"


def unreachable(timed_out, timeout):
    """The plain sentence for a gateway that did not answer: waited too long,
    or could not be reached at all (refused, unknown host, bad address)."""
    if timed_out:
        return GatewayUnreachable(
            _lt("gateway unreachable (timeout after %(timeout)g s)", timeout=timeout)
        )
    return GatewayUnreachable(
        _lt(
            "gateway unreachable (connection refused or host not found) — check "
            "the network and the API Base URL"
        )
    )


class GatewayRefused(GatewayError):
    """The gateway understood and said no (bad currency, amount, state)."""

    kind = "refused"


class PayloadError(ValueError):
    """A webhook body that is not an event we can store: ``field`` names the
    part at fault (``body`` for the whole), ``message`` (lazy: translate it
    with ``env._``) says what is wrong."""

    def __init__(self, field, message):
        super().__init__(field, message)
        self.field = field
        self.message = message


def json_depth(text):
    """How deep the JSON ``text`` nests, counted without parsing it.

    Exact for valid JSON (outside strings only brackets nest); invalid JSON is
    refused by the parser anyway, whatever this returns.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def load_event(payload):
    """The JSON object of a raw webhook body (bytes), or ``PayloadError``.

    Strict JSON (RFC 8259: UTF-8, no NaN or Infinity), nested at most
    ``WEBHOOK_MAX_JSON_DEPTH`` levels, checked before the parser recurses.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("body", _lt("not UTF-8 text")) from exc
    limit = const.WEBHOOK_MAX_JSON_DEPTH
    if json_depth(text) > limit:
        raise PayloadError(
            "body", _lt("JSON nested deeper than %(limit)s levels", limit=limit)
        )
    try:
        event = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body", _lt("malformed JSON")) from exc
    if not isinstance(event, dict):
        raise PayloadError("body", _lt("not a JSON object"))
    return event


def text_field(event, key):
    """The event's ``key``: a non-empty printable string of at most 255
    characters (it is stored, indexed and shown as it came)."""
    value = event.get(key)
    if value is None or value == "":
        raise PayloadError(key, _lt("missing"))
    if not isinstance(value, str):
        raise PayloadError(key, _lt("not a string"))
    if len(value) > const.EVENT_FIELD_MAX_LENGTH:
        raise PayloadError(
            key,
            _lt("longer than %(max)s characters", max=const.EVENT_FIELD_MAX_LENGTH),
        )
    # Refuses control characters (NUL: PostgreSQL stores no such text) and
    # lone surrogates (they cannot be encoded to UTF-8).
    if not value.isprintable():
        raise PayloadError(key, _lt("contains control or unprintable characters"))
    return value


def minor_units(obj, *keys):
    """The first of ``keys`` set in ``obj`` as a whole number of minor units
    (0 when none is): a float, a string or a bool is refused, never rounded
    into an amount booked."""
    for key in keys:
        value = obj.get(key)
        if value is None or value == 0:
            continue
        # bool is an int in Python; 12.5 cents is no amount a gateway sends.
        if type(value) is not int or abs(value) >= 10**18:
            raise PayloadError(
                f"data.object.{key}", _lt("not a whole number of minor units")
            )
        return value
    return 0


def _in_range(key, seconds):
    if not const.EVENT_CREATED_MIN <= seconds < const.EVENT_CREATED_MAX:
        raise PayloadError(key, _lt("outside the years 2000 to 2099"))
    return seconds


def epoch_field(event, key):
    """The event's ``key`` as whole epoch seconds (Stripe's ``created``), or
    ``None`` when absent."""
    value = event.get(key)
    if value is None:
        return None
    # bool is an int in Python, and a float is not whole seconds.
    if type(value) is not int:
        raise PayloadError(key, _lt("not a whole number of seconds"))
    return _in_range(key, value)


def iso_field(event, key):
    """The event's ISO 8601 ``key`` (PayPal's ``create_time``) as epoch
    seconds, or ``None`` when absent; no offset means UTC."""
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise PayloadError(key, _lt("not an ISO 8601 date"))
    # Python before 3.11 does not read the "Z" PayPal writes.
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(value)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        seconds = int(stamp.timestamp())
    except (ValueError, OverflowError) as exc:
        raise PayloadError(key, _lt("not an ISO 8601 date")) from exc
    return _in_range(key, seconds)


@dataclass(frozen=True)
class EventEnvelope:
    """What every stored event has, validated (``GatewayAdapter.envelope``)."""

    external_id: str
    event_type: str
    # The normalised kind (const.EVENT_KINDS), decided here once: stored at
    # intake and read again by ``parse_event``.
    kind: str
    created: int | None = None  # epoch seconds (UTC)
    livemode: bool = False
    # Why a handled type is "other" this time (a refund not succeeded yet):
    # lazy, translated where it is shown.
    reason: object = None


@dataclass(frozen=True)
class GatewayConfig:
    provider: str
    secret_key: str = ""
    webhook_secret: str = ""
    api_base: str = ""
    timeout: float = 10.0
    max_retries: int = 2
    live: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerData:
    """What a gateway needs to know of an Odoo partner."""

    partner_id: int
    name: str
    email: str = ""
    phone: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    state: str = ""
    country_code: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout for one invoice's amount (already in minor units)."""

    invoice_id: int
    invoice_name: str
    amount_minor: int
    currency: str  # ISO 4217, upper case
    success_url: str
    cancel_url: str
    expires_at: int  # epoch seconds
    idempotency_key: str
    customer_ref: str = ""
    customer_email: str = ""
    description: str = ""
    metadata: dict = field(default_factory=dict)
    # Save the payer's method for later off-session charges (Stripe:
    # ``setup_future_usage=off_session``); needs ``customer_ref``.
    save_method: bool = False
    # Payment method types the page offers (const.METHOD_TYPES keys, Stripe's
    # ``payment_method_types``); () lets the gateway choose.
    method_types: tuple = ()


@dataclass(frozen=True)
class SavedMethod:
    """A payment method saved at the gateway, as shown and charged later:
    never a card number."""

    method_ref: str  # pm_...
    customer_ref: str = ""  # cus_...
    method_type: str = "card"  # const.METHOD_TYPES key
    brand: str = ""  # card brand, or the bank's name
    last4: str = ""
    exp_month: int = 0
    exp_year: int = 0
    mandate_ref: str = ""  # the debit mandate's id
    mandate_at: int = 0  # epoch seconds the mandate was accepted
    wallet: str = ""  # apple_pay / google_pay: the card came through a wallet


@dataclass(frozen=True)
class SetupRequest:
    """A hosted page that only saves a method (Stripe Checkout ``setup``)."""

    partner_id: int
    customer_ref: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    currency: str = ""  # ISO 4217, upper case (SEPA needs EUR)
    method_types: tuple = ()  # () = the gateway's default
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeRequest:
    """An off-session charge of a saved method for one invoice."""

    invoice_id: int
    invoice_name: str
    amount_minor: int
    currency: str  # ISO 4217, upper case
    customer_ref: str
    method_ref: str
    idempotency_key: str
    description: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeResult:
    """What an off-session charge did right away (its webhook confirms it)."""

    # succeeded / processing (a debit: days to settle) / requires_action (the
    # bank wants the customer: send them the link) / declined
    status: str
    payment_ref: str = ""  # pi_...
    # card_declined, insufficient_funds, expired_card, authentication_required...
    decline_code: str = ""
    message: str = ""  # the gateway's own words
    # ``(payload, headers)`` of the event the charge brings, for gateways
    # with no servers to send it (demo): fed to the intake by the caller.
    webhook: tuple | None = None


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    url: str
    amount_minor: int
    currency: str
    expires_at: int
    payment_ref: str = ""  # set by ``complete_checkout``: the payment taken
    # open / complete / expired; after ``complete_checkout`` also pending (the
    # gateway holds the money for review) and declined (send the payer to ``url``).
    status: str = "open"


@dataclass(frozen=True)
class NormalizedEvent:
    """A gateway webhook reduced to what accounting needs (see const.EVENT_KINDS)."""

    external_id: str
    event_type: str  # the gateway's own type, e.g. charge.refunded
    kind: str
    created: int = 0
    livemode: bool = False
    object_ref: str = ""  # id of the object the event is about
    payment_ref: str = ""  # PaymentIntent / capture id the money belongs to
    session_ref: str = ""
    invoice_id: int | None = None
    db: str = ""
    amount_minor: int = 0
    currency: str = ""
    # The gateway's balance may settle in another currency than the customer
    # paid in (a EUR charge on a USD Stripe account): then ``settle_currency``
    # and ``settle_amount_minor`` are the gross in that currency, and
    # ``fee_minor`` is always in the balance's currency (``settle_currency``
    # when set, else ``currency``).
    fee_minor: int = 0
    settle_currency: str = ""
    settle_amount_minor: int = 0
    # What a dispute-like event does to the money (see const.MONEY_MOVES):
    # "out" the gateway took it back, "back" it returns what an "out" of the
    # same ``money_ref`` took (which is booked first), "release" it returns
    # it only if an "out" was booked (a PayPal dispute won after a hold or
    # a reversal). ``money_ref``: the gateway object that money belongs to,
    # ``object_ref`` unless the adapter says otherwise.
    money: str = ""
    money_ref: str = ""
    status: str = ""
    # How the customer paid (payments only, when the gateway says): the method
    # type ("card", "sepa_debit", "paypal"), the card brand and the ISO 3166
    # country of the card's issuer.
    payment_method: str = ""
    card_brand: str = ""
    card_country: str = ""
    # Saved methods: the payment method and customer at the gateway (a
    # payment's, or the method saved/removed), why a payment was declined
    # (the gateway's decline code), and whether the payer asked to save the
    # method they paid with.
    method_ref: str = ""
    customer_ref: str = ""
    decline_code: str = ""
    save_method: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    """One page of the events a gateway lists (``list_events``)."""

    # Decoded event dicts as the gateway lists them: each is what its webhook
    # body would be.
    events: list
    # Opaque: pass it back to ``list_events`` for the next page; "" when this
    # page was the last.
    cursor: str = ""


@dataclass(frozen=True)
class WebhookEndpoint:
    """A webhook endpoint registered at the gateway."""

    endpoint_id: str
    url: str
    event_types: tuple  # sorted
    enabled: bool = True
    # The signing secret, only when the gateway just created it (Stripe shows
    # it once, in its answer to the creation).
    secret: str = ""


def webhook_differences(endpoint, url, needed_types):
    """What is wrong with ``endpoint`` (a ``WebhookEndpoint`` or None) for
    events to reach ``url`` with every type of ``needed_types``: a list of
    lazy plain-words messages, empty when all is right. Types subscribed
    beyond those needed are harmless; ``*`` subscribes to every type."""
    if endpoint is None:
        return [
            _lt("no webhook endpoint is registered at the gateway for %(url)s", url=url)
        ]
    problems = []
    if endpoint.url != url:
        problems.append(
            _lt(
                "the gateway sends events to %(registered)s instead of %(url)s",
                registered=endpoint.url,
                url=url,
            )
        )
    subscribed = set(endpoint.event_types)
    missing = [] if "*" in subscribed else sorted(set(needed_types) - subscribed)
    if missing:
        problems.append(
            _lt(
                "the endpoint is not subscribed to these event types: %(types)s",
                types=", ".join(missing),
            )
        )
    if not endpoint.enabled:
        problems.append(
            _lt("the endpoint is disabled at the gateway: enable it in its dashboard")
        )
    return problems


class GatewayAdapter:
    """Base class: one instance per gateway record and call site.

    Class attributes say what a gateway can do, so that the ORM and the
    customer pages ask the adapter instead of testing its provider code.
    """

    code = None
    # What a customer's pay button says when several gateways are offered.
    pay_label = _lt("Pay by card")
    # The payer pays from an account of theirs (a wallet) rather than a card
    # form: the pay link offers one gateway of each family.
    wallet = False
    # Odoo partners are created as customers at the gateway before checkout.
    syncs_customers = True
    # The checkout page is served by this addon (``/paycrm/demo/checkout/``).
    hosted_here = False
    # The webhook signing secret is ours to generate (no dashboard issues one).
    generates_webhook_secret = False
    # ``(shortest, longest)`` hours a hosted checkout may live, or None.
    session_hours = None
    # ``GatewayConfig.extra`` key -> field of ``paycrm.gateway`` holding it.
    config_fields = {}
    # ``list_events`` works: missed webhooks can be caught up from the
    # gateway's own list of events.
    lists_events = False
    # ``register_webhook`` and ``find_webhook`` work.
    registers_webhooks = False
    # How many days back the gateway lists events (None: it does not).
    event_history_days = None
    # Payment methods can be saved and charged later off-session
    # (``create_setup_checkout``, ``get_saved_method``, ``charge_saved_method``,
    # ``detach_method``).
    saves_methods = False
    # Payment method types (const.METHOD_TYPES keys) its pages can offer.
    method_types = ("card",)

    def __init__(self, config):
        self.config = config

    def check_connection(self):
        """Return a short description of the account reached, or raise."""
        raise NotImplementedError

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        """Create (``reference`` empty) or update a customer; return its id."""
        raise NotImplementedError

    # Payment links: a ``CheckoutRequest`` in, a ``CheckoutSession`` out.
    def create_checkout(self, request):
        raise NotImplementedError

    def expire_checkout(self, session_id):
        raise NotImplementedError

    def complete_checkout(self, session_id, idempotency_key):
        """Take the money of a checkout the payer approved and came back from.

        Gateways whose hosted page only approves (PayPal orders) capture here and
        return a ``CheckoutSession`` whose ``status`` says what happened; the
        payment is booked by its webhook all the same. ``None``: the hosted page
        took the money itself (Stripe, demo), nothing to do on return.
        """
        return None

    # Saved payment methods (``saves_methods``).
    def create_setup_checkout(self, request):
        """A hosted page that only saves a method (a ``SetupRequest`` in, a
        ``CheckoutSession`` with no amount out); the method comes back with
        a ``method_saved`` event."""
        raise GatewayError(_lt("this gateway cannot save payment methods"))

    def get_saved_method(self, method_ref):
        """The ``SavedMethod`` of ``method_ref`` as the gateway has it now."""
        raise GatewayError(_lt("this gateway cannot save payment methods"))

    def charge_saved_method(self, request):
        """Charge a saved method off-session (a ``ChargeRequest``); return a
        ``ChargeResult``. A decline is a result, not an exception; a network
        failure raises ``GatewayUnreachable``; the same idempotency key
        returns the first answer again."""
        raise GatewayError(_lt("this gateway cannot charge saved payment methods"))

    def detach_method(self, method_ref):
        """Remove a saved method at the gateway; a method already removed or
        unknown is no error."""
        raise GatewayError(_lt("this gateway cannot save payment methods"))

    # Webhooks: verify raw bytes first, then normalise the parsed JSON.
    # Event type -> normalised kind (const.EVENT_KINDS), for the envelope.
    event_kinds = {}

    @classmethod
    def envelope(cls, event):
        """The validated ``EventEnvelope`` of a decoded event (a dict), or
        ``PayloadError`` naming the field at fault.

        The intake stores nothing of an event unchecked by this, and the
        processor checks again. This is Stripe's shape (``type``, epoch
        ``created``); gateways shaped otherwise override it with the same
        field rules.
        """
        external_id = text_field(event, "id")
        event_type = text_field(event, "type")
        kind, reason = cls.event_kind(event, event_type)
        return EventEnvelope(
            external_id=external_id,
            event_type=event_type,
            kind=kind,
            created=epoch_field(event, "created"),
            livemode=bool(event.get("livemode")),
            reason=reason,
        )

    @classmethod
    def read_event(cls, payload):
        """``(event, envelope)`` of a raw webhook body (bytes): the decoded
        JSON object and its ``EventEnvelope``; ``PayloadError`` when it is not
        an event we can store."""
        event = load_event(payload)
        return event, cls.envelope(event)

    @classmethod
    def event_kind(cls, event, event_type):
        """``(kind, reason)`` of a decoded event: the one place its normalised
        kind is worked out (``reason``: why a handled type is "other")."""
        return cls.event_kinds.get(event_type, "other"), None

    @staticmethod
    def kept_headers(headers):
        """What an event stored unverified keeps of its request's headers, for
        ``verify_webhook`` to read when it asks again: all but credentials."""
        return {
            key: value
            for key, value in headers.items()
            if key.lower() not in ("cookie", "authorization")
        }

    def verify_webhook(self, payload, headers):
        """Raise ``signature.SignatureError`` unless ``payload`` is authentic."""
        raise NotImplementedError

    def parse_event(self, event):
        """Return a ``NormalizedEvent`` for a verified, JSON-decoded event."""
        raise NotImplementedError

    def currency_exponent(self, currency, iso_decimals):
        """Decimals of the minor units this gateway counts ``currency`` in.

        ``CheckoutRequest.amount_minor`` and ``NormalizedEvent.amount_minor`` are
        in these units; gateways that differ from ISO 4217 override this.
        """
        return int(iso_decimals)

    def enrich_event(self, event):
        """Complete ``event`` with what the payload lacks (fees, the payment's
        metadata) by asking the gateway; the default knows nothing more."""
        return event

    def settle_event(self, event):
        """Complete a refund with what left the balance in the balance's own
        currency (``settle_currency``); asked only when the payment it
        refunds settled in another currency than it was charged in."""
        return event

    # Refunds and the tie-out.
    @classmethod
    def refund_metadata(cls, payment_event):
        """The metadata a refund of a payment carries, from the payment's
        decoded event; ``None`` for gateways whose payloads carry none."""
        return None

    def refund_webhook(self, refund_ref, payment_ref, amount_minor, currency, metadata):
        """``(payload, headers)`` of the webhook a refund just asked for would
        bring, for gateways with no servers to send it (demo): the caller feeds
        it to the intake. ``None``: the gateway sends its own."""
        return None

    def refund(
        self, payment_ref, amount_minor, idempotency_key, metadata=None, currency=None
    ):
        """Ask the gateway to refund; return the refund id (booked by webhook).

        ``currency`` (ISO 4217) is for gateways whose refund names it (PayPal).
        """
        raise NotImplementedError

    def balance(self, currency):
        """Money held by the gateway for ``currency``, in minor units, or None
        when the gateway cannot tell."""
        return None

    def balance_transactions(self, currency, since=0, limit=1000):
        """Movements not yet paid out: a list of dicts with ``id``, ``type``,
        ``source``, ``amount``, ``fee``, ``net`` (minor units), ``created``."""
        return []

    # Catch-up and webhook registration (``lists_events``,
    # ``registers_webhooks``).
    @classmethod
    def webhook_event_types(cls):
        """The event types the addon handles, sorted: those a webhook
        endpoint subscribes to."""
        return tuple(sorted(cls.event_kinds))

    def list_events(self, since, until, cursor=""):
        """One ``EventPage`` of the events created in ``[since, until)``
        (epoch seconds), newest first; ``cursor``: the previous page's."""
        raise GatewayError(_lt("this gateway cannot list its past events"))

    def register_webhook(self, url, endpoint_id=""):
        """Create the endpoint for ``url`` subscribed to exactly
        ``webhook_event_types()`` (or update ``endpoint_id``, when the gateway
        has it); return its ``WebhookEndpoint``."""
        raise GatewayError(_lt("this gateway cannot register webhooks"))

    def find_webhook(self, url, endpoint_id=""):
        """The ``WebhookEndpoint`` registered with ``endpoint_id``, else the
        first whose URL is ``url``; None when there is none."""
        raise GatewayError(_lt("this gateway cannot list its webhooks"))
