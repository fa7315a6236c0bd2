"""The Stripe stand-in's saved payment methods: Checkout in setup mode,
PaymentMethods (Stripe's test ids, created on first use), SetupIntents and
mandates, off-session PaymentIntents answering by their method, detach and
attach, and bank debits settled later (``settle_processing``). Odoo-free.

A mixin of ``StripeStandin``, which provides ``objects``, ``new_id``, ``put``,
``get``, ``_retrieve``, ``_record``, ``_balance_transaction``, ``_lock``, the
``StripeError`` type (``error``), ``fixture``, ``now`` and ``_page``
(``EventsMixin``).

Payment method ids are Stripe's test ids, or any id starting with one
(``pm_card_visa_17``: a Visa of its own, handy for many customers). What
an off-session charge of a method does (``CHARGE_OUTCOMES``):

* ``pm_card_visa``, ``pm_card_mastercard``, ``pm_card_applePay``,
  ``pm_card_googlePay`` (cards through a wallet; stand-in ids): succeeded;
* ``pm_card_chargeDeclined``: 402 ``card_declined``;
  ``pm_card_chargeDeclinedInsufficientFunds``: ``insufficient_funds``;
  ``pm_card_chargeDeclinedExpiredCard``: ``expired_card``;
* ``pm_card_authenticationRequired``: 402 ``authentication_required``, the
  intent left ``requires_action``;
* ``pm_sepa_debit``, ``pm_usBankAccount``: ``processing`` (debits; their
  outcome comes with ``settle_processing``).
"""

import copy
import datetime

SETUP_INTENTS_PATH = "/v1/setup_intents"
PAYMENT_INTENTS_PATH = "/v1/payment_intents"
METHODS_PATH = "/v1/payment_methods"
_NEXT_YEAR = datetime.date.today().year + 2


def _card(brand, last4, wallet=None, exp_year=_NEXT_YEAR):
    return {
        "type": "card",
        "card": {
            "brand": brand,
            "display_brand": brand,
            "last4": last4,
            "exp_month": 12,
            "exp_year": exp_year,
            "country": "US",
            "funding": "credit",
            "wallet": {"type": wallet, "dynamic_last4": None} if wallet else None,
        },
    }


# Test id (prefix) -> (the PaymentMethod's type and details, charge outcome:
# (status, error code, decline code)). Longest prefix wins.
METHOD_TEMPLATES = {
    "pm_card_visa": (_card("visa", "4242"), ("succeeded", "", "")),
    "pm_card_mastercard": (_card("mastercard", "4444"), ("succeeded", "", "")),
    "pm_card_applePay": (_card("visa", "4242", "apple_pay"), ("succeeded", "", "")),
    "pm_card_googlePay": (
        _card("visa", "4242", "google_pay"),
        ("succeeded", "", ""),
    ),
    "pm_card_chargeDeclined": (
        _card("visa", "0002"),
        ("declined", "card_declined", ""),
    ),
    "pm_card_chargeDeclinedInsufficientFunds": (
        _card("visa", "9995"),
        ("declined", "card_declined", "insufficient_funds"),
    ),
    "pm_card_chargeDeclinedExpiredCard": (
        _card("visa", "0069"),
        ("declined", "expired_card", "expired_card"),
    ),
    "pm_card_authenticationRequired": (
        _card("visa", "3184"),
        ("requires_action", "authentication_required", "authentication_required"),
    ),
    "pm_sepa_debit": (
        {
            "type": "sepa_debit",
            "sepa_debit": {
                "bank_code": "37040044",
                "branch_code": "",
                "country": "DE",
                "fingerprint": "standin_sepa",
                "last4": "3000",
            },
        },
        ("processing", "", ""),
    ),
    "pm_usBankAccount": (
        {
            "type": "us_bank_account",
            "us_bank_account": {
                "account_holder_type": "individual",
                "account_type": "checking",
                "bank_name": "STRIPE TEST BANK",
                "fingerprint": "standin_ach",
                "last4": "6789",
                "routing_number": "110000000",
            },
        },
        ("processing", "", ""),
    ),
}
DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "authentication_required": "Your card was declined. This transaction "
    "requires authentication.",
    "insufficient_funds": "Your card has insufficient funds.",
}


def method_template(method_id):
    """``(details, outcome)`` of the test id ``method_id`` starts with, or
    None."""
    for prefix in sorted(METHOD_TEMPLATES, key=len, reverse=True):
        if method_id.startswith(prefix):
            return METHOD_TEMPLATES[prefix]
    return None


class MethodsMixin:
    def _init_methods(self):
        """The routes of saved methods (before the generic ``GET
        /v1/<collection>/<id>``, which serves SetupIntents and mandates)."""
        return [
            ("GET", METHODS_PATH + "/([^/]+)", self._get_method),
            ("POST", METHODS_PATH + "/([^/]+)/attach", self._attach_method),
            ("POST", METHODS_PATH + "/([^/]+)/detach", self._detach_method),
            ("GET", SETUP_INTENTS_PATH, self._list_setup_intents),
            ("GET", PAYMENT_INTENTS_PATH, self._list_payment_intents),
            ("POST", PAYMENT_INTENTS_PATH, self._create_intent),
        ]

    # -- helpers for tests -------------------------------------------------------

    def payment_method(self, method_id, customer=None):
        """The stored PaymentMethod ``method_id`` (created from its test id's
        template on first use; None for an unknown id), attached to
        ``customer`` when given."""
        with self._lock:
            method = self.get("payment_method", method_id)
            if method is None:
                template = method_template(method_id)
                if template is None:
                    return None
                details = copy.deepcopy(template[0])
                method = self.fixture("payment_method", created=self.now())
                method.pop("card", None)
                method.update(
                    details, id=method_id, customer=None, metadata={}, livemode=False
                )
                self.objects["payment_method"][method_id] = method
            if customer:
                method["customer"] = customer
            return method

    def complete_setup_session(self, session_id, method="pm_card_visa", created=None):
        """The customer saves ``method`` on a setup-mode session: the method
        attached to the session's customer, its SetupIntent succeeded (with
        a mandate for a debit), and ``checkout.session.completed`` and
        ``setup_intent.succeeded`` recorded. Returns the objects and events."""
        with self._lock:
            session = self.get("checkout.session", session_id)
            if session is None or session.get("mode") != "setup":
                raise KeyError(session_id)
            intent = self.get("setup_intent", session["setup_intent"])
            pm = self.payment_method(method, session.get("customer"))
            if pm is None:
                raise KeyError(method)
            mandate = self._mandate_for(pm) if pm["type"] != "card" else None
            intent.update(
                status="succeeded",
                payment_method=method,
                mandate=mandate and mandate["id"],
                last_setup_error=None,
                next_action=None,
            )
            session.update(status="complete", payment_status="no_payment_required")
            session_event = self._record("checkout.session.completed", session, created)
            intent_event = self._record("setup_intent.succeeded", intent, created)
            return {
                "session": session,
                "setup_intent": intent,
                "payment_method": pm,
                "mandate": mandate,
                "events": [e for e in (session_event, intent_event) if e],
            }

    def settle_processing(self, pi_id, succeeded=True, decline_code="", created=None):
        """A processing debit settles: the intent succeeds (its charge paid,
        with its fee) and ``payment_intent.succeeded`` is recorded (and
        ``checkout.session.async_payment_succeeded`` for a checkout's), or it
        fails (``insufficient_funds`` unless ``decline_code`` says) with
        ``payment_intent.payment_failed`` (and ``..._async_payment_failed``)."""
        with self._lock:
            intent = self.get("payment_intent", pi_id)
            if intent is None or intent["status"] != "processing":
                raise KeyError(pi_id)
            charge = self.get("charge", intent["latest_charge"])
            if succeeded:
                txn = self._balance_transaction(
                    intent, charge["id"], "charge", with_fee=True
                )
                charge.update(
                    status="succeeded", paid=True, balance_transaction=txn["id"]
                )
                intent.update(status="succeeded", amount_received=intent["amount"])
            else:
                code = decline_code or "insufficient_funds"
                charge.update(status="failed", paid=False, failure_code=code)
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "type": "card_error"
                        if intent.get("payment_method_types") == ["card"]
                        else "invalid_request_error",
                        "code": code,
                        "decline_code": code,
                        "message": DECLINE_MESSAGES.get(code, "The debit failed."),
                        "payment_method": copy.deepcopy(
                            self.get("payment_method", intent["payment_method"])
                        ),
                    },
                )
            events = [
                self._record(
                    "payment_intent.succeeded"
                    if succeeded
                    else "payment_intent.payment_failed",
                    intent,
                    created,
                )
            ]
            session = next(
                (
                    s
                    for s in self.objects["checkout.session"].values()
                    if s.get("payment_intent") == pi_id
                ),
                None,
            )
            if session is not None:
                session["payment_status"] = "paid" if succeeded else "unpaid"
                events.append(
                    self._record(
                        "checkout.session.async_payment_succeeded"
                        if succeeded
                        else "checkout.session.async_payment_failed",
                        session,
                        created,
                    )
                )
            return {
                "payment_intent": intent,
                "charge": charge,
                "events": [e for e in events if e],
            }

    # -- sessions ----------------------------------------------------------------

    def _setup_session(self, session):
        """A setup-mode session as Stripe creates it: no amount, and its
        SetupIntent waiting for a method."""
        seti_id = self.new_id("setup_intent")
        intent = self.fixture(
            "setup_intent",
            id=seti_id,
            created=self.now(),
            customer=session.get("customer"),
            metadata=dict(
                (session.get("setup_intent_data") or {}).get("metadata") or {}
            ),
            payment_method=None,
            payment_method_types=session.get("payment_method_types") or ["card"],
            status="requires_payment_method",
            last_setup_error=None,
            next_action=None,
            usage="off_session",
            client_secret=f"{seti_id}_secret_standin",
        )
        self.objects["setup_intent"][seti_id] = intent
        session.update(
            setup_intent=seti_id,
            amount_total=None,
            amount_subtotal=None,
            payment_status="no_payment_required",
        )
        return session

    def _pay(self, common, method, pi_id, ch_id):
        """Charge ``method`` (its test id decides): ``(intent, charge, txn,
        outcome)`` stored, ``outcome`` its template's ``(status, code,
        decline code)``."""
        pm = self.payment_method(method)
        if pm is None:
            raise self.error(
                400,
                f"No such PaymentMethod: '{method}'",
                code="resource_missing",
                param="payment_method",
            )
        outcome = method_template(method)[1]
        status, code, decline = outcome
        details = {"type": pm["type"], pm["type"]: copy.deepcopy(pm[pm["type"]])}
        if pm["type"] != "card":
            details[pm["type"]]["mandate"] = self._mandate_for(pm)["id"]
        txn = None
        if status == "succeeded":
            txn = self._balance_transaction(common, ch_id, "charge", with_fee=True)
        charge_status = {"succeeded": "succeeded", "processing": "pending"}
        charge = self.put(
            "charge",
            {
                **common,
                "id": ch_id,
                "amount_captured": common["amount"] if status == "succeeded" else 0,
                "captured": status == "succeeded",
                "paid": status == "succeeded",
                "status": charge_status.get(status, "failed"),
                "failure_code": decline or code or None,
                "payment_intent": pi_id,
                "payment_method": method,
                "payment_method_details": details,
                "balance_transaction": txn and txn["id"],
            },
        )
        error = None
        if code:
            error = {
                "type": "card_error",
                "code": code,
                "message": DECLINE_MESSAGES.get(decline or code, "Declined."),
                "payment_method": copy.deepcopy(pm),
                "charge": ch_id,
            }
            if decline:
                error["decline_code"] = decline
        intent_status = {
            "declined": "requires_payment_method",
            "requires_action": "requires_action",
        }
        intent = self.put(
            "payment_intent",
            {
                **common,
                "id": pi_id,
                "amount_received": common["amount"] if status == "succeeded" else 0,
                "status": intent_status.get(status, status),
                "latest_charge": ch_id,
                "payment_method": method,
                "payment_method_types": [pm["type"]],
                "last_payment_error": error,
                "canceled_at": None,
                "client_secret": f"{pi_id}_secret_standin",
                "next_action": {"type": "use_stripe_sdk"}
                if status == "requires_action"
                else None,
            },
        )
        return intent, charge, txn, outcome

    def _mandate_for(self, pm):
        """The (multi-use) mandate of a debit method, created on first use."""
        for mandate in self.objects["mandate"].values():
            if mandate["payment_method"] == pm["id"]:
                return mandate
        mandate_id = self.new_id("mandate")
        mandate = self.fixture(
            "mandate",
            id=mandate_id,
            payment_method=pm["id"],
            payment_method_details={"type": pm["type"], pm["type"]: {}},
            status="active",
            type="multi_use",
        )
        mandate["customer_acceptance"]["accepted_at"] = self.now()
        self.objects["mandate"][mandate_id] = mandate
        return mandate

    # -- payment methods ---------------------------------------------------------

    def _get_method(self, params, method_id):
        method = self.payment_method(method_id)
        if method is None:
            raise self.error(
                404,
                f"No such PaymentMethod: '{method_id}'",
                code="resource_missing",
                param="payment_method",
            )
        return method

    def _attach_method(self, params, method_id):
        if not params.get("customer"):
            raise self.error(400, "Missing required param: customer.", param="customer")
        self._retrieve(params, "customers", params["customer"])
        method = self._get_method(params, method_id)
        method["customer"] = params["customer"]
        return method

    def _detach_method(self, params, method_id):
        method = self._get_method(params, method_id)
        if not method.get("customer"):
            raise self.error(
                400,
                "The payment method you provided is not attached to a customer "
                "so detachment is impossible.",
            )
        previous = method["customer"]
        method["customer"] = None
        event = self._record("payment_method.detached", method)
        if event:
            event["data"]["previous_attributes"] = {"customer": previous}
        return method

    # -- intents -----------------------------------------------------------------

    def _list_setup_intents(self, params):
        filters = {f: params[f] for f in ("customer", "payment_method") if f in params}
        intents = [
            intent
            for intent in self._newest_first(self.objects["setup_intent"].values())
            if all(intent.get(f) == value for f, value in filters.items())
        ]
        return self._page(params, intents, SETUP_INTENTS_PATH, "setup intent")

    def _list_payment_intents(self, params):
        customer = params.get("customer")
        intents = [
            intent
            for intent in self._newest_first(self.objects["payment_intent"].values())
            if not customer or intent.get("customer") == customer
        ]
        return self._page(params, intents, PAYMENT_INTENTS_PATH, "payment intent")

    def _create_intent(self, params):
        """``POST /v1/payment_intents``: only confirmed off-session charges
        of a saved method (what the connector sends)."""
        for name in ("amount", "currency", "customer", "payment_method"):
            if not params.get(name):
                raise self.error(400, f"Missing required param: {name}.", param=name)
        if not (params.get("confirm") and params.get("off_session")):
            raise self.error(
                400, "The stand-in only takes confirm=true&off_session=true intents."
            )
        self._retrieve(params, "customers", params["customer"])
        pm = self.payment_method(params["payment_method"])
        if pm is not None and pm.get("customer") not in (None, params["customer"]):
            raise self.error(
                400,
                "The provided PaymentMethod is attached to another customer.",
                param="payment_method",
            )
        common = {
            "amount": params["amount"],
            "currency": params["currency"],
            "customer": params["customer"],
            "metadata": dict(params.get("metadata") or {}),
            "description": params.get("description"),
        }
        pi_id, ch_id = self.new_id("payment_intent"), self.new_id("charge")
        intent, _charge, _txn, outcome = self._pay(
            common, params["payment_method"], pi_id, ch_id
        )
        intent["off_session"] = True
        status, code, _decline = outcome
        event_type = {
            "succeeded": "payment_intent.succeeded",
            "processing": "payment_intent.processing",
        }.get(status, "payment_intent.payment_failed")
        self._record(event_type, intent)
        if code:
            raise self.error(
                402,
                intent["last_payment_error"]["message"],
                "card_error",
                **{
                    key: value
                    for key, value in intent["last_payment_error"].items()
                    if key not in ("type", "message")
                },
                payment_intent=copy.deepcopy(intent),
            )
        return intent
