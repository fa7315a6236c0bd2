"""Stripe through the official SDK: one ``StripeClient`` per gateway record."""

import time

import stripe as stripe_sdk

from .. import const
from .base import (
    CheckoutSession,
    GatewayAdapter,
    GatewayAuthError,
    GatewayRefused,
    GatewayUnreachable,
)

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

    # ------------------------------------------------------------ checkout

    def create_checkout(self, request):
        metadata = {key: str(value) for key, value in request.metadata.items()}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.invoice_name},
                    },
                }
            ],
            "client_reference_id": str(request.invoice_id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": self.clamp_expiry(request.expires_at),
        }
        if request.description:
            params["payment_intent_data"]["description"] = request.description
        if request.customer_ref:
            params["customer"] = request.customer_ref
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        session = self._call(
            self.client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": request.idempotency_key},
        )
        return CheckoutSession(
            session_id=session.id,
            url=session.url,
            amount_minor=session.amount_total,
            currency=(session.currency or request.currency).upper(),
            expires_at=session.expires_at,
            status=session.status or "open",
        )

    @staticmethod
    def clamp_expiry(expires_at, now=None):
        """Keep ``expires_at`` inside Stripe's 30 min - 24 h window (with slack)."""
        now = int(time.time()) if now is None else now
        # A minute of slack each side: Stripe measures from its own clock.
        low = now + int(const.STRIPE_SESSION_MIN_HOURS * 3600) + 60
        high = now + int(const.STRIPE_SESSION_MAX_HOURS * 3600) - 60
        return max(low, min(high, int(expires_at)))

    def expire_checkout(self, session_id):
        return self._call(self._expire, session_id)

    def _expire(self, session_id):
        try:
            return self.client.v1.checkout.sessions.expire(session_id).status
        except stripe_sdk.InvalidRequestError:
            # Already complete, already expired or unknown: nothing is left open.
            return "gone"
