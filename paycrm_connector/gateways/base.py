"""The interface every gateway adapter implements, and its error types.

Adapters receive plain values (a ``GatewayConfig``, dataclasses) and return plain
values, so they can be tested without Odoo and the ORM never leaks into them.
"""

from dataclasses import dataclass, field


class GatewayError(Exception):
    """A failure the user can act on; ``str(exc)`` is a plain-words message."""

    kind = "error"


class GatewayAuthError(GatewayError):
    kind = "auth"


class GatewayUnreachable(GatewayError):
    """Nothing answered in time, or a 5xx: worth retrying later."""

    kind = "unreachable"


class GatewayRefused(GatewayError):
    """The gateway understood and said no (bad currency, amount, state)."""

    kind = "refused"


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
    fee_minor: int = 0
    status: str = ""
    # How the customer paid (payments only, when the gateway says): the method
    # type ("card", "sepa_debit", "paypal"), the card brand and the ISO 3166
    # country of the card's issuer.
    payment_method: str = ""
    card_brand: str = ""
    card_country: str = ""
    extra: dict = field(default_factory=dict)


class GatewayAdapter:
    """Base class: one instance per gateway record and call site."""

    code = None

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

    # Webhooks: verify raw bytes first, then normalise the parsed JSON.
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

    # Refunds and the tie-out.
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
