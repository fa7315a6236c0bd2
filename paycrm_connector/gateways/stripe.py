"""Stripe through the official SDK: one ``StripeClient`` per gateway record."""

import stripe as stripe_sdk

from .base import (
    GatewayAdapter,
    GatewayAuthError,
    GatewayRefused,
    GatewayUnreachable,
)
from .money import stripe_exponent

STRIPE_API_BASE = "https://api.stripe.com"


class StripeAdapter(GatewayAdapter):
    code = "stripe"

    def __init__(self, config):
        super().__init__(config)
        if not config.secret_key:
            raise GatewayAuthError("no secret key configured — paste it on the gateway")
        self.client = stripe_sdk.StripeClient(
            config.secret_key,
            base_addresses={"api": config.api_base or STRIPE_API_BASE},
            max_network_retries=config.max_retries,
            http_client=stripe_sdk.RequestsClient(timeout=config.timeout),
        )

    def _call(self, method, *args, **kwargs):
        """Run one SDK call and turn SDK exceptions into plain-words errors."""
        try:
            return method(*args, **kwargs)
        except stripe_sdk.AuthenticationError as exc:
            raise GatewayAuthError(
                "authentication failed — check the secret key"
            ) from exc
        except stripe_sdk.PermissionError as exc:
            raise GatewayAuthError(
                "the key lacks permission for this call — use a secret key with "
                "write access"
            ) from exc
        except stripe_sdk.APIConnectionError as exc:
            raise GatewayUnreachable(
                f"gateway unreachable (timeout after {self.config.timeout:g} s)"
            ) from exc
        except stripe_sdk.RateLimitError as exc:
            raise GatewayUnreachable(
                "gateway busy (rate limited) — try again in a minute"
            ) from exc
        except stripe_sdk.InvalidRequestError as exc:
            raise GatewayRefused(
                f"gateway refused the request: {exc.user_message or exc.code}"
            ) from exc
        except stripe_sdk.StripeError as exc:
            status = exc.http_status or "?"
            raise GatewayUnreachable(
                f"gateway error (HTTP {status}) — try again later"
            ) from exc

    def currency_exponent(self, currency, iso_decimals):
        return stripe_exponent(currency, iso_decimals)

    def check_connection(self):
        balance = self._call(self.client.v1.balance.retrieve)
        mode = "live" if balance.livemode else "test"
        return f"connected to Stripe ({mode} mode)"

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        params = {
            "name": customer.name,
            "email": customer.email or "",
            "phone": customer.phone or "",
            "address": {
                "line1": customer.street or "",
                "line2": customer.street2 or "",
                "city": customer.city or "",
                "postal_code": customer.zip or "",
                "state": customer.state or "",
                "country": customer.country_code or "",
            },
            "metadata": {"odoo_partner_id": str(customer.partner_id)}
            | customer.metadata,
        }
        if reference:
            result = self._call(
                self.client.v1.customers.update, reference, params=params
            )
        else:
            options = {"idempotency_key": idempotency_key} if idempotency_key else {}
            result = self._call(
                self.client.v1.customers.create, params=params, options=options
            )
        return result.id
