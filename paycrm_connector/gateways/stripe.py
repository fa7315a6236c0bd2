"""Stripe through the official SDK: one ``StripeClient`` per gateway record."""

import time

import stripe as stripe_sdk

from odoo.tools import LazyTranslate

from .. import const
from ..const import STRIPE_EVENT_KINDS
from . import signature, stripe_events
from .base import (
    CheckoutSession,
    GatewayAdapter,
    GatewayAuthError,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
    unreachable,
)
from .money import stripe_exponent
from .stripe_events import (
    _int,
    _ref,
    intent_method_values,
    payment_method_values,
    settlement_values,
)
from .stripe_methods import StripeMethodsMixin, charge_mandate, check_save_request
from .stripe_sync import StripeSyncMixin

_lt = LazyTranslate(__name__, default_lang="en_US")

STRIPE_API_BASE = "https://api.stripe.com"
# What the SDK raises, instead of one of its own errors, when the server that
# answered is not Stripe (a JSON error object of another shape, a list...).
NOT_STRIPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def not_stripe(status=None):
    """The error for an answer that did not come from Stripe's API."""
    if status:
        return GatewayError(
            _lt(
                "the API base URL sent HTTP %(status)s with an answer that is not "
                "Stripe's — check the API Base URL, or leave it empty for Stripe "
                "itself",
                status=status,
            )
        )
    return GatewayError(
        _lt(
            "the API base URL sent an answer that is not Stripe's — check the API "
            "Base URL, or leave it empty for Stripe itself"
        )
    )


class StripeAdapter(StripeMethodsMixin, StripeSyncMixin, GatewayAdapter):
    code = "stripe"
    event_kinds = STRIPE_EVENT_KINDS
    not_stripe = staticmethod(not_stripe)
    # Checkout Sessions live between 30 minutes and 24 hours.
    session_hours = (const.STRIPE_SESSION_MIN_HOURS, const.STRIPE_SESSION_MAX_HOURS)
    saves_methods = True
    method_types = ("card", "sepa_debit", "us_bank_account")

    @classmethod
    def refund_metadata(cls, payment_event):
        # The invoice metadata our checkout gave the payment.
        obj = (payment_event.get("data") or {}).get("object") or {}
        return obj.get("metadata")

    def __init__(self, config):
        super().__init__(config)
        if not config.secret_key:
            raise GatewayAuthError(
                _lt("no secret key configured — paste it on the gateway")
            )
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
        except NOT_STRIPE_ERRORS as exc:
            raise not_stripe() from exc
        except stripe_sdk.AuthenticationError as exc:
            raise GatewayAuthError(
                _lt("authentication failed — check the secret key")
            ) from exc
        except stripe_sdk.PermissionError as exc:
            raise GatewayAuthError(
                _lt(
                    "the key lacks permission for this call — use a secret key "
                    "with write access"
                )
            ) from exc
        except stripe_sdk.APIConnectionError as exc:
            # The SDK names the network error it wrapped ("ReadTimeout: ...").
            raise unreachable("Timeout" in str(exc), self.config.timeout) from exc
        except stripe_sdk.RateLimitError as exc:
            raise GatewayUnreachable(
                _lt("gateway busy (rate limited) — try again in a minute")
            ) from exc
        except stripe_sdk.InvalidRequestError as exc:
            error = exc.error
            reason = (
                exc.user_message
                or exc.code
                or (error and error.message)
                or "no reason given"
            )
            raise GatewayRefused(
                _lt("gateway refused the request: %(reason)s", reason=reason)
            ) from exc
        except stripe_sdk.APIError as exc:
            status = exc.http_status
            # The SDK's "invalid response" below 500: an answer Stripe would
            # not give (HTML, not JSON, no error object), so the base URL
            # points elsewhere.
            if status and status < 500:
                raise not_stripe(status) from exc
            raise GatewayUnreachable(
                _lt(
                    "gateway error (HTTP %(status)s) — try again later",
                    status=status or "?",
                )
            ) from exc
        except stripe_sdk.StripeError as exc:
            status = exc.http_status or "?"
            raise GatewayUnreachable(
                _lt("gateway error (HTTP %(status)s) — try again later", status=status)
            ) from exc

    def currency_exponent(self, currency, iso_decimals):
        return stripe_exponent(currency, iso_decimals)

    def check_connection(self):
        balance = self._call(self.client.v1.balance.retrieve)
        if not isinstance(balance, stripe_sdk.StripeObject):
            raise not_stripe(200)
        balance = balance.to_dict()
        if balance.get("object") != "balance":
            raise not_stripe(200)
        mode = "live" if balance.get("livemode") else "test"
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
        check_save_request(request)
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
            # Stripe fills in the session's id: the return tells which
            # payment is in flight before its webhook is booked.
            "success_url": request.success_url
            + ("&" if "?" in request.success_url else "?")
            + "session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": request.cancel_url,
            "expires_at": self.clamp_expiry(request.expires_at),
        }
        if request.description:
            params["payment_intent_data"]["description"] = request.description
        if request.customer_ref:
            params["customer"] = request.customer_ref
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        if request.save_method:
            # Saved on the customer, for charges made without them.
            params["payment_intent_data"]["setup_future_usage"] = "off_session"
        if request.method_types:
            params["payment_method_types"] = list(request.method_types)
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

    def complete_checkout(self, session_id, idempotency_key):
        """Stripe's hosted page took the money itself: on return, only ask
        what became of the session, so money in flight is known at once
        (``complete``: paid; ``pending``: a delayed method is processing)."""
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        status = session.status or "open"
        if status == "complete":
            status = "complete" if session.payment_status == "paid" else "pending"
        return CheckoutSession(
            session_id=session.id,
            url=session.url or "",
            amount_minor=session.amount_total or 0,
            currency=(session.currency or "").upper(),
            expires_at=session.expires_at or 0,
            payment_ref=_ref(session.payment_intent),
            status=status,
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

    # -- webhooks ------------------------------------------------------------

    def verify_webhook(self, payload, headers):
        if not self.config.webhook_secret:
            raise signature.SignatureError("no webhook secret configured")
        header = headers.get("Stripe-Signature")
        if not header:
            raise signature.SignatureError("missing Stripe-Signature header")
        # The SDK refuses old timestamps only, and raises a TypeError on a
        # non-ASCII signature: our parser refuses malformed headers (one
        # timestamp, hex signatures, so both read the same one), and the
        # window is checked both ways.
        timestamp, _signatures = signature.parse_header(header)
        signature.check_timestamp(timestamp)
        try:
            stripe_sdk.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                header,
                self.config.webhook_secret,
                tolerance=const.WEBHOOK_TOLERANCE_SECONDS,
            )
        except (stripe_sdk.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise signature.SignatureError(str(exc).split("\n")[0]) from exc

    @classmethod
    def event_kind(cls, event, event_type):
        return stripe_events.event_kind(event, cls.event_kinds)

    def parse_event(self, event):
        # Its id, type, time and kind are read the intake's way, or refused.
        head = self.envelope(event)
        return stripe_events.normalize_event(event, head.kind, head.reason)

    def enrich_event(self, event):
        """Fetch the PaymentIntent when the event lacks its fee or metadata
        (the SetupIntent when a saved-method event lacks the method)."""
        if event.kind in ("method_saved", "method_removed"):
            return self.enrich_saved_method_event(event)
        needs_payment = event.kind == "payment_succeeded" and not event.extra.get(
            "fee_known"
        )
        needs_owner = event.kind != "payment_succeeded" and not event.extra.get(
            "metadata", {}
        ).get("paycrm_invoice_id")
        # A debit in flight: say which method it is (SEPA, ACH...).
        needs_method = event.kind == "payment_pending" and not event.payment_method
        if not (needs_payment or needs_owner or needs_method):
            return event
        pi_id = event.payment_ref
        if not pi_id and event.extra.get("charge"):
            charge = self._call(self.client.v1.charges.retrieve, event.extra["charge"])
            pi_id = charge.get("payment_intent") or ""
        if not pi_id:
            return event
        intent = self._call(
            self.client.v1.payment_intents.retrieve,
            pi_id,
            params={"expand": ["latest_charge.balance_transaction"]},
        ).to_dict()
        charge = intent.get("latest_charge") or {}
        txn = charge.get("balance_transaction") if isinstance(charge, dict) else None
        extra = dict(event.extra)
        metadata = {**(intent.get("metadata") or {}), **extra.get("metadata", {})}
        extra.update(metadata=metadata, charge=_ref(charge), fee_known=bool(txn))
        if charge_mandate(charge):
            extra["mandate"] = charge_mandate(charge)
        changes = {"payment_ref": pi_id, "extra": extra}
        # The method charged, its customer, a decline's code and whether the
        # payer saved the method, where the event did not say.
        for key, value in intent_method_values(intent).items():
            if not getattr(event, key):
                changes[key] = value
        if needs_payment and isinstance(txn, dict):
            changes.update(settlement_values(txn, {"currency": charge.get("currency")}))
        if not event.payment_method and isinstance(charge, dict):
            changes.update(payment_method_values(charge.get("payment_method_details")))
        if event.invoice_id is None and metadata.get("paycrm_invoice_id"):
            changes["invoice_id"] = _int(metadata["paycrm_invoice_id"])
            changes["db"] = metadata.get("paycrm_db", "")
        return event.__class__(**{**event.__dict__, **changes})

    def settle_event(self, event):
        """A refund settles at its own day's rate: its balance transaction
        says what left the balance (webhooks carry only the id)."""
        txn_id = event.extra.get("balance_transaction")
        if event.settle_currency or not txn_id:
            return event
        txn = self._call(self.client.v1.balance_transactions.retrieve, txn_id)
        values = settlement_values(txn.to_dict(), {"currency": event.currency})
        values.pop("fee_minor")
        return event.__class__(**{**event.__dict__, **values}) if values else event

    def refund(
        self, payment_ref, amount_minor, idempotency_key, metadata=None, currency=None
    ):
        params = {"payment_intent": payment_ref, "amount": int(amount_minor)}
        if metadata:
            params["metadata"] = metadata
        result = self._call(
            self.client.v1.refunds.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return result.id

    def balance(self, currency):
        result = self._call(self.client.v1.balance.retrieve).to_dict()
        code = currency.lower()
        return sum(
            int(item.get("amount") or 0)
            for part in ("available", "pending")
            for item in result.get(part) or []
            if item.get("currency") == code
        )

    def balance_transactions(self, currency, since=0, limit=1000):
        params = {"limit": 100}
        if since:
            params["created"] = {"gt": int(since)}
        rows, code = [], currency.lower()
        while len(rows) < limit:
            page = self._call(
                self.client.v1.balance_transactions.list, params=params
            ).to_dict()
            for txn in page.get("data") or []:
                if txn.get("currency") == code and txn.get("type") != "payout":
                    rows.append(
                        {
                            key: txn.get(key)
                            for key in ("id", "type", "source", "amount", "fee", "net")
                        }
                        | {"created": txn.get("created") or 0}
                    )
            if not page.get("has_more") or not page.get("data"):
                break
            params["starting_after"] = page["data"][-1]["id"]
        return rows[:limit]
