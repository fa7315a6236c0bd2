"""Plain-Python gateway adapters: they talk to the outside, never to the ORM."""

from .base import (
    CheckoutRequest,
    CheckoutSession,
    CustomerData,
    GatewayAdapter,
    GatewayAuthError,
    GatewayConfig,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
    NormalizedEvent,
)
from .demo import DemoAdapter
from .stripe import StripeAdapter
from .paypal import PaypalAdapter

ADAPTERS = {
    DemoAdapter.code: DemoAdapter,
    StripeAdapter.code: StripeAdapter,
    PaypalAdapter.code: PaypalAdapter,
}


def get_adapter(config):
    """Return the adapter instance for ``config.provider``."""
    try:
        adapter_class = ADAPTERS[config.provider]
    except KeyError as exc:
        raise GatewayError(f"unknown gateway provider {config.provider!r}") from exc
    return adapter_class(config)


__all__ = [
    "ADAPTERS",
    "CheckoutRequest",
    "CheckoutSession",
    "GatewayRefused",
    "NormalizedEvent",
    "CustomerData",
    "DemoAdapter",
    "GatewayAdapter",
    "GatewayAuthError",
    "GatewayConfig",
    "GatewayError",
    "GatewayUnreachable",
    "StripeAdapter",
    "PaypalAdapter",
    "get_adapter",
]
