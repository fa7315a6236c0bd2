"""Saved payment methods at Stripe, for ``StripeAdapter``: Checkout in setup
mode, the PaymentMethod read back (card, wallet, SEPA or ACH with its
mandate), off-session charges and detaching.

A mixin on ``StripeAdapter``: it uses the adapter's ``client`` and ``_call``
(SDK errors in plain words), and returns the plain values of ``base``.
"""

import stripe as stripe_sdk

from odoo.tools import LazyTranslate

from .. import const
from .base import ChargeResult, CheckoutSession, GatewayError, SavedMethod
from .stripe_events import _ref, intent_method_values

_lt = LazyTranslate(__name__, default_lang="en_US")

# PaymentIntent status -> ``ChargeResult.status``.
CHARGE_STATUSES = {
    "succeeded": "succeeded",
    "processing": "processing",
    "requires_action": "requires_action",
    "requires_confirmation": "requires_action",
}
# Decline codes that mean the bank wants the customer (3-D Secure...).
ACTION_CODES = ("authentication_required",)
# How many of a method's SetupIntents / its customer's PaymentIntents are
# read to find the mandate it was saved with.
MANDATE_LOOKUP_LIMIT = 20


def return_url(url):
    """``url`` with Stripe's session id placeholder: the return tells which
    session it comes back from."""
    return url + ("&" if "?" in url else "?") + "session_id={CHECKOUT_SESSION_ID}"


def saved_method_values(method):
    """``SavedMethod`` fields of a Stripe PaymentMethod (a dict)."""
    kind = str(method.get("type") or "")
    details = method.get(kind) if isinstance(method.get(kind), dict) else {}
    values = {
        "method_ref": method.get("id") or "",
        "customer_ref": _ref(method.get("customer")),
        "last4": str(details.get("last4") or ""),
    }
    if kind == "card":
        wallet = details.get("wallet") or {}
        wallet = str(wallet.get("type") or "") if isinstance(wallet, dict) else ""
        values.update(
            method_type="wallet" if wallet else "card",
            wallet=wallet,
            brand=str(details.get("brand") or ""),
            exp_month=int(details.get("exp_month") or 0),
            exp_year=int(details.get("exp_year") or 0),
        )
    elif kind == "us_bank_account":
        values.update(method_type=kind, brand=str(details.get("bank_name") or ""))
    elif kind == "sepa_debit":
        values["method_type"] = kind
    else:
        # Link, PayPal and other accounts charged like a wallet.
        values.update(method_type="wallet", wallet=kind)
    return values


def charge_mandate(charge):
    """The mandate a Charge (a dict) was debited under, or ""."""
    details = charge.get("payment_method_details") if isinstance(charge, dict) else {}
    if not isinstance(details, dict):
        return ""
    method = details.get(details.get("type") or "")
    return _ref(method.get("mandate")) if isinstance(method, dict) else ""


class StripeMethodsMixin:
    """Needs the adapter's ``client`` and ``_call``."""

    def create_setup_checkout(self, request):
        metadata = {const.META_PARTNER_ID: str(request.partner_id)} | {
            key: str(value) for key, value in request.metadata.items()
        }
        params = {
            "mode": "setup",
            "customer": request.customer_ref,
            "success_url": return_url(request.success_url),
            "cancel_url": request.cancel_url,
            "metadata": metadata,
            # The SetupIntent's event finds its customer again too.
            "setup_intent_data": {"metadata": metadata},
        }
        if request.currency:
            params["currency"] = request.currency.lower()
        if request.method_types:
            params["payment_method_types"] = list(request.method_types)
        elif not request.currency:
            # Stripe chooses the methods only when it knows the currency.
            params["payment_method_types"] = ["card"]
        session = self._call(
            self.client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": request.idempotency_key},
        )
        return CheckoutSession(
            session_id=session.id,
            url=session.url,
            amount_minor=0,
            currency=(session.currency or request.currency or "").upper(),
            expires_at=session.expires_at or 0,
            status=session.status or "open",
        )

    def get_saved_method(self, method_ref, mandate_ref=""):
        """The method as Stripe has it; a bank debit's mandate (when
        ``mandate_ref``, e.g. an event's ``extra["mandate"]``, does not name
        it) is the one of the SetupIntent that saved it, or of the payment
        that did."""
        method = self._call(self.client.v1.payment_methods.retrieve, method_ref)
        method = method.to_dict()
        values = saved_method_values(method)
        if values.get("method_type") in const.DELAYED_METHOD_TYPES:
            mandate_ref = mandate_ref or self._find_mandate(method)
            if mandate_ref:
                mandate = self._call(self.client.v1.mandates.retrieve, mandate_ref)
                acceptance = mandate.to_dict().get("customer_acceptance") or {}
                values.update(
                    mandate_ref=mandate_ref,
                    mandate_at=int(acceptance.get("accepted_at") or 0),
                )
        return SavedMethod(**values)

    def _find_mandate(self, method):
        method_ref = method.get("id") or ""
        intents = self._call(
            self.client.v1.setup_intents.list,
            params={"payment_method": method_ref, "limit": MANDATE_LOOKUP_LIMIT},
        ).to_dict()
        for intent in intents.get("data") or []:
            if intent.get("mandate"):
                return _ref(intent["mandate"])
        customer = _ref(method.get("customer"))
        if not customer:
            return ""
        payments = self._call(
            self.client.v1.payment_intents.list,
            params={
                "customer": customer,
                "limit": MANDATE_LOOKUP_LIMIT,
                "expand": ["data.latest_charge"],
            },
        ).to_dict()
        for intent in payments.get("data") or []:
            if _ref(intent.get("payment_method")) == method_ref:
                mandate = charge_mandate(intent.get("latest_charge"))
                if mandate:
                    return mandate
        return ""

    def charge_saved_method(self, request):
        metadata = {
            const.META_INVOICE_ID: str(request.invoice_id),
            const.META_INVOICE_NAME: request.invoice_name,
        } | {key: str(value) for key, value in request.metadata.items()}
        params = {
            "amount": int(request.amount_minor),
            "currency": request.currency.lower(),
            "customer": request.customer_ref,
            "payment_method": request.method_ref,
            "confirm": True,
            "off_session": True,
            "metadata": metadata,
        }
        if request.description:
            params["description"] = request.description
        return self._call(
            self._charge, params, {"idempotency_key": request.idempotency_key}
        )

    def _charge(self, params, options):
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options=options
            )
        except stripe_sdk.CardError as exc:
            # A decline answers 402 with the intent it left: a result.
            return self._declined(exc)
        intent = intent.to_dict()
        status = CHARGE_STATUSES.get(intent.get("status"), "declined")
        values = intent_method_values(intent)
        error = intent.get("last_payment_error") or {}
        code = values.get("decline_code", "")
        if status == "requires_action" and not code:
            code = "authentication_required"
        return ChargeResult(
            status=status,
            payment_ref=intent.get("id") or "",
            decline_code=code,
            message=str(error.get("message") or "") if isinstance(error, dict) else "",
        )

    @staticmethod
    def _declined(exc):
        error = (exc.json_body or {}).get("error") or {}
        intent = error.get("payment_intent") or {}
        code = str(error.get("decline_code") or error.get("code") or "card_declined")
        action = code in ACTION_CODES or intent.get("status") == "requires_action"
        return ChargeResult(
            status="requires_action" if action else "declined",
            payment_ref=_ref(intent),
            decline_code=code,
            message=str(error.get("message") or ""),
        )

    def detach_method(self, method_ref):
        self._call(self._detach, method_ref)

    def _detach(self, method_ref):
        try:
            self.client.v1.payment_methods.detach(method_ref)
        except stripe_sdk.InvalidRequestError as exc:
            # Not attached any more, or unknown: nothing is left to remove.
            if exc.http_status not in (400, 404):
                raise

    def enrich_saved_method_event(self, event):
        """A saved-method event whose payload lacks the method (a setup
        session's ``setup_intent`` not expanded): read its SetupIntent."""
        intent_ref = event.extra.get("setup_intent")
        if event.kind != "method_saved" or event.method_ref or not intent_ref:
            return event
        intent = self._call(self.client.v1.setup_intents.retrieve, intent_ref)
        intent = intent.to_dict()
        extra = dict(event.extra, mandate=_ref(intent.get("mandate")))
        changes = {
            "method_ref": _ref(intent.get("payment_method")),
            "customer_ref": event.customer_ref or _ref(intent.get("customer")),
            "extra": extra,
        }
        return event.__class__(**{**event.__dict__, **changes})


def check_save_request(request):
    """A checkout that saves the method needs the customer at Stripe."""
    if request.save_method and not request.customer_ref:
        raise GatewayError(
            _lt("saving the payment method needs the customer at Stripe")
        )
