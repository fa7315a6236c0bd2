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
    """Nothing answered in time: worth retrying later."""

    kind = "unreachable"


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
