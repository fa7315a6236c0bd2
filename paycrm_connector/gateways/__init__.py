"""Plain-Python gateway adapters: they talk to the outside, never to the ORM.

Everything provider-specific lives here. Adding a gateway takes an adapter
module (a ``GatewayAdapter`` subclass: its ``code``, what it can do as class
attributes, checkout, webhook verification, ``envelope``/``parse_event``)
registered in ``ADAPTERS`` below, and its value in the gateway's provider
selection (``const.PROVIDERS``); nothing outside ``gateways/`` asks which
provider it talks to (``tests/test_gateway_third_provider.py`` shows one).
"""

from odoo.tools import LazyTranslate

from .base import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    CustomerData,
    EventEnvelope,
    EventPage,
    GatewayAdapter,
    GatewayAuthError,
    GatewayConfig,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
    NormalizedEvent,
    PayloadError,
    SavedMethod,
    SetupRequest,
    WebhookEndpoint,
    load_event,
    webhook_differences,
)
from .demo import DemoAdapter
from .stripe import StripeAdapter
from .paypal import PaypalAdapter

_lt = LazyTranslate(__name__, default_lang="en_US")

ADAPTERS = {
    DemoAdapter.code: DemoAdapter,
    StripeAdapter.code: StripeAdapter,
    PaypalAdapter.code: PaypalAdapter,
}


def get_adapter_class(provider):
    """The adapter class of ``provider``: its class methods (the event
    envelope) need no configured instance."""
    try:
        return ADAPTERS[provider]
    except KeyError as exc:
        raise GatewayError(
            _lt("unknown gateway provider %(provider)s", provider=repr(provider))
        ) from exc


def providers_with(capability):
    """Provider codes whose adapter has ``capability`` (a class attribute of
    ``GatewayAdapter``, e.g. ``wallet``), for domains on ``provider``."""
    return [code for code, adapter in ADAPTERS.items() if getattr(adapter, capability)]


def get_adapter(config):
    """Return the adapter instance for ``config.provider``."""
    return get_adapter_class(config.provider)(config)


__all__ = [
    "ADAPTERS",
    "ChargeRequest",
    "ChargeResult",
    "SavedMethod",
    "SetupRequest",
    "CheckoutRequest",
    "CheckoutSession",
    "GatewayRefused",
    "NormalizedEvent",
    "PayloadError",
    "CustomerData",
    "DemoAdapter",
    "EventEnvelope",
    "EventPage",
    "GatewayAdapter",
    "GatewayAuthError",
    "GatewayConfig",
    "GatewayError",
    "GatewayUnreachable",
    "StripeAdapter",
    "PaypalAdapter",
    "WebhookEndpoint",
    "get_adapter",
    "get_adapter_class",
    "load_event",
    "providers_with",
    "webhook_differences",
]
