"""Saved payment methods through the adapters, no ORM: Stripe through the real
SDK against the stand-in (setup sessions, saving while paying, off-session
charges and their outcomes, detach, the events each brings), and the demo
gateway's deterministic answers."""

import json

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector import const
from odoo.addons.paycrm_connector.gateways import (
    ChargeRequest,
    CheckoutRequest,
    GatewayConfig,
    GatewayError,
    GatewayUnreachable,
    PaypalAdapter,
    SavedMethod,
    SetupRequest,
    StripeAdapter,
    get_adapter,
)

from .stripe_standin import StripeStandin

NOW = StripeStandin.now()


def stripe_adapter(standin):
    return get_adapter(
        GatewayConfig(
            provider="stripe",
            secret_key="sk_test_x",
            api_base=standin.url,
            timeout=5.0,
            max_retries=0,
        )
    )


def charge_request(method_ref, customer_ref, key="paycrm-autopay-db-7-1", **values):
    return ChargeRequest(
        **{
            "invoice_id": 7,
            "invoice_name": "INV/2026/0007",
            "amount_minor": 12500,
            "currency": "EUR",
            "customer_ref": customer_ref,
            "method_ref": method_ref,
            "idempotency_key": key,
            "metadata": {const.META_DB: "db"},
            **values,
        }
    )


@tagged("post_install", "-at_install")
class TestGatewayMethodsLib(BaseCase):
    def setUp(self):
        super().setUp()
        self.standin = StripeStandin().start()
        self.addCleanup(self.standin.stop)
        self.adapter = stripe_adapter(self.standin)
        self.customer = self.standin.put("customer", {"email": "a@example.com"})["id"]

    def parse(self, event):
        """The enriched ``NormalizedEvent`` of a recorded event, as booking
        reads it."""
        event = json.loads(json.dumps(event))
        return self.adapter.enrich_event(self.adapter.parse_event(event))

    # -- capabilities ------------------------------------------------------------

    def test_capabilities_and_kinds(self):
        self.assertTrue(StripeAdapter.saves_methods)
        self.assertEqual(
            StripeAdapter.method_types, ("card", "sepa_debit", "us_bank_account")
        )
        self.assertFalse(PaypalAdapter.saves_methods)
        kinds = StripeAdapter.event_kinds
        self.assertEqual(kinds["payment_intent.processing"], "payment_pending")
        self.assertEqual(kinds["setup_intent.succeeded"], "method_saved")
        self.assertEqual(kinds["payment_method.detached"], "method_removed")
        keys = dict(const.EVENT_KINDS)
        self.assertIn("method_saved", keys)
        self.assertIn("method_removed", keys)
        self.assertEqual(
            [key for key, _label in const.METHOD_TYPES],
            ["card", "sepa_debit", "us_bank_account", "wallet"],
        )
        paypal = get_adapter(GatewayConfig(provider="paypal", secret_key="x"))
        with self.assertRaisesRegex(GatewayError, "cannot"):
            paypal.charge_saved_method(charge_request("pm_x", "cus_x"))

    # -- setup sessions ----------------------------------------------------------

    def setup_session(self, **values):
        request = SetupRequest(
            **{
                "partner_id": 42,
                "customer_ref": self.customer,
                "success_url": "https://erp.example.com/my/methods?ok=1",
                "cancel_url": "https://erp.example.com/my/methods",
                "idempotency_key": "paycrm-setup-42-1",
                "currency": "EUR",
                **values,
            }
        )
        return self.adapter.create_setup_checkout(request)

    def test_setup_session_saves_a_card(self):
        session = self.setup_session(method_types=("card", "sepa_debit"))
        self.assertEqual(session.amount_minor, 0)
        self.assertEqual(session.currency, "EUR")
        self.assertTrue(session.url)
        params = self.standin.last("POST", "/v1/checkout/sessions").params
        self.assertEqual(params["mode"], "setup")
        self.assertEqual(params["customer"], self.customer)
        self.assertEqual(params["payment_method_types"], ["card", "sepa_debit"])
        self.assertEqual(params["metadata"][const.META_PARTNER_ID], "42")
        self.assertEqual(
            params["setup_intent_data"]["metadata"]["paycrm_partner_id"], "42"
        )
        self.assertIn("session_id={CHECKOUT_SESSION_ID}", params["success_url"])
        self.assertTrue(
            params["success_url"].startswith("https://erp.example.com/my/methods?ok=1&")
        )
        # The same key replays the same session.
        self.assertEqual(
            self.setup_session(method_types=("card", "sepa_debit")), session
        )

        done = self.standin.complete_setup_session(session.session_id, "pm_card_visa")
        session_event, intent_event = done["events"]
        self.assertEqual(session_event["type"], "checkout.session.completed")
        self.assertEqual(intent_event["type"], "setup_intent.succeeded")
        # The session's event names its SetupIntent only: enrich reads it.
        norm = self.parse(session_event)
        self.assertEqual(norm.kind, "method_saved")
        self.assertEqual(norm.session_ref, session.session_id)
        self.assertEqual(norm.extra["setup_intent"], done["setup_intent"]["id"])
        self.assertEqual(norm.method_ref, "pm_card_visa")
        self.assertEqual(norm.customer_ref, self.customer)
        self.assertEqual(norm.extra["metadata"]["paycrm_partner_id"], "42")
        self.assertIsNone(norm.invoice_id)
        norm = self.parse(intent_event)
        self.assertEqual((norm.kind, norm.method_ref), ("method_saved", "pm_card_visa"))
        self.assertEqual(norm.customer_ref, self.customer)
        self.assertEqual(norm.extra["metadata"]["paycrm_partner_id"], "42")

        saved = self.adapter.get_saved_method(norm.method_ref)
        self.assertEqual(
            saved,
            SavedMethod(
                method_ref="pm_card_visa",
                customer_ref=self.customer,
                method_type="card",
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=saved.exp_year,
            ),
        )
        self.assertGreater(saved.exp_year, 2025)

    def test_setup_without_currency_offers_cards(self):
        self.setup_session(currency="", idempotency_key="k2")
        params = self.standin.last("POST", "/v1/checkout/sessions").params
        self.assertEqual(params["payment_method_types"], ["card"])
        self.assertNotIn("currency", params)

    def test_sepa_method_with_its_mandate(self):
        session = self.setup_session(method_types=("sepa_debit",))
        done = self.standin.complete_setup_session(session.session_id, "pm_sepa_debit")
        mandate = done["mandate"]
        norm = self.parse(done["events"][1])
        self.assertEqual(norm.extra["mandate"], mandate["id"])
        saved = self.adapter.get_saved_method("pm_sepa_debit")
        self.assertEqual(saved.method_type, "sepa_debit")
        self.assertEqual(saved.last4, "3000")
        self.assertEqual(saved.mandate_ref, mandate["id"])
        self.assertEqual(
            saved.mandate_at, mandate["customer_acceptance"]["accepted_at"]
        )
        self.assertIn(const.DELAYED_METHOD_TYPES[0], ("sepa_debit",))
        # Given by the event, the mandate is not looked up.
        before = len(self.standin.calls("GET", "/v1/setup_intents"))
        again = self.adapter.get_saved_method("pm_sepa_debit", mandate["id"])
        self.assertEqual(again, saved)
        self.assertEqual(len(self.standin.calls("GET", "/v1/setup_intents")), before)

    def test_ach_and_wallet_methods(self):
        self.standin.payment_method("pm_usBankAccount", self.customer)
        ach = self.adapter.get_saved_method("pm_usBankAccount")
        self.assertEqual(
            (ach.method_type, ach.brand, ach.last4),
            ("us_bank_account", "STRIPE TEST BANK", "6789"),
        )
        # No SetupIntent saved it, no payment used it yet: no mandate known.
        self.assertEqual(ach.mandate_ref, "")
        wallet = self.adapter.get_saved_method("pm_card_applePay")
        self.assertEqual(
            (wallet.method_type, wallet.wallet, wallet.brand, wallet.last4),
            ("wallet", "apple_pay", "visa", "4242"),
        )
        with self.assertRaisesRegex(GatewayError, "No such PaymentMethod"):
            self.adapter.get_saved_method("pm_nothing")

    # -- saving while paying -----------------------------------------------------

    def checkout(self, **values):
        request = CheckoutRequest(
            **{
                "invoice_id": 7,
                "invoice_name": "INV/2026/0007",
                "amount_minor": 5000,
                "currency": "EUR",
                "success_url": "https://erp.example.com/pay/ok",
                "cancel_url": "https://erp.example.com/pay/no",
                "expires_at": NOW + 3600,
                "idempotency_key": "paycrm-link-7-1",
                "customer_ref": self.customer,
                "metadata": {const.META_INVOICE_ID: "7"},
                **values,
            }
        )
        return self.adapter.create_checkout(request)

    def test_checkout_saving_the_method(self):
        session = self.checkout(save_method=True, method_types=("card", "sepa_debit"))
        params = self.standin.last("POST", "/v1/checkout/sessions").params
        self.assertEqual(
            params["payment_intent_data"]["setup_future_usage"], "off_session"
        )
        self.assertEqual(params["payment_method_types"], ["card", "sepa_debit"])
        done = self.standin.complete_session(session.session_id)
        norm = self.parse(done["event"])
        self.assertEqual(norm.kind, "payment_succeeded")
        self.assertTrue(norm.save_method)
        self.assertEqual(norm.method_ref, "pm_card_visa")
        self.assertEqual(norm.customer_ref, self.customer)
        self.assertEqual(
            self.standin.get("payment_method", "pm_card_visa")["customer"],
            self.customer,
        )

    def test_checkout_not_saving_by_default(self):
        session = self.checkout()
        params = self.standin.last("POST", "/v1/checkout/sessions").params
        self.assertNotIn("setup_future_usage", params["payment_intent_data"])
        self.assertNotIn("payment_method_types", params)
        done = self.standin.complete_session(session.session_id)
        self.assertFalse(self.parse(done["event"]).save_method)
        with self.assertRaisesRegex(GatewayError, "customer"):
            self.checkout(save_method=True, customer_ref="", idempotency_key="k3")

    def test_checkout_paid_by_sepa_is_pending_then_settles(self):
        session = self.checkout(save_method=True, method_types=("sepa_debit",))
        done = self.standin.complete_session(session.session_id, method="pm_sepa_debit")
        pi_id = done["payment_intent"]["id"]
        completed, processing = self.standin.events_of(
            "checkout.session.completed", "payment_intent.processing"
        )
        self.assertEqual(self.parse(completed).kind, "payment_pending")
        norm = self.parse(processing)
        self.assertEqual((norm.kind, norm.payment_ref), ("payment_pending", pi_id))
        self.assertEqual((norm.amount_minor, norm.currency), (5000, "EUR"))
        self.assertEqual(norm.method_ref, "pm_sepa_debit")
        self.assertEqual(norm.payment_method, "sepa_debit")
        self.assertTrue(norm.save_method)
        self.assertEqual(norm.invoice_id, 7)
        settled = self.standin.settle_processing(pi_id)
        types = [event["type"] for event in settled["events"]]
        self.assertEqual(
            types,
            ["payment_intent.succeeded", "checkout.session.async_payment_succeeded"],
        )
        norm = self.parse(settled["events"][0])
        self.assertEqual(norm.kind, "payment_succeeded")
        self.assertTrue(norm.extra["fee_known"] or norm.fee_minor)
        self.assertTrue(norm.extra.get("mandate", "").startswith("mandate_"))

    # -- off-session charges -----------------------------------------------------

    def test_charge_succeeds_with_its_event(self):
        result = self.adapter.charge_saved_method(
            charge_request("pm_card_visa", self.customer, description="INV/2026/0007")
        )
        self.assertEqual(result.status, "succeeded")
        self.assertTrue(result.payment_ref.startswith("pi_"))
        self.assertEqual(result.decline_code, "")
        self.assertIsNone(result.webhook)
        call = self.standin.last("POST", "/v1/payment_intents")
        self.assertEqual(call.headers.get("Idempotency-Key"), "paycrm-autopay-db-7-1")
        params = call.params
        self.assertEqual(
            {key: params[key] for key in ("confirm", "off_session", "customer")},
            {"confirm": "true", "off_session": "true", "customer": self.customer},
        )
        self.assertEqual(params["payment_method"], "pm_card_visa")
        self.assertEqual(
            params["metadata"],
            {
                "paycrm_invoice_id": "7",
                "paycrm_invoice_name": "INV/2026/0007",
                "paycrm_db": "db",
            },
        )
        (event,) = self.standin.events_of("payment_intent.succeeded")
        norm = self.parse(event)
        self.assertEqual(norm.kind, "payment_succeeded")
        self.assertEqual((norm.payment_ref, norm.invoice_id), (result.payment_ref, 7))
        self.assertEqual((norm.amount_minor, norm.currency), (12500, "EUR"))
        self.assertGreater(norm.fee_minor, 0)
        self.assertEqual(norm.method_ref, "pm_card_visa")
        self.assertEqual(norm.payment_method, "card")

    def test_same_key_charges_once(self):
        first = self.adapter.charge_saved_method(
            charge_request("pm_card_visa", self.customer)
        )
        again = self.adapter.charge_saved_method(
            charge_request("pm_card_visa", self.customer)
        )
        self.assertEqual(first, again)
        self.assertEqual(self.standin.idempotent_replays, 1)
        self.assertEqual(len(self.standin.objects["payment_intent"]), 1)
        other = self.adapter.charge_saved_method(
            charge_request("pm_card_visa", self.customer, key="paycrm-autopay-db-7-2")
        )
        self.assertNotEqual(other.payment_ref, first.payment_ref)

    def test_declined_is_a_result(self):
        cases = {
            "pm_card_chargeDeclined": ("declined", "card_declined"),
            "pm_card_chargeDeclinedInsufficientFunds": (
                "declined",
                "insufficient_funds",
            ),
            "pm_card_chargeDeclinedExpiredCard": ("declined", "expired_card"),
            "pm_card_authenticationRequired": (
                "requires_action",
                "authentication_required",
            ),
        }
        for n, (method, expected) in enumerate(cases.items()):
            with self.subTest(method=method):
                key = f"paycrm-autopay-db-{n}-1"
                result = self.adapter.charge_saved_method(
                    charge_request(method, self.customer, key=key)
                )
                self.assertEqual((result.status, result.decline_code), expected)
                self.assertTrue(result.payment_ref.startswith("pi_"))
                self.assertTrue(result.message)
                self.assertEqual(
                    self.standin.last("POST", "/v1/payment_intents").status, 402
                )
                # A retry with its key gets the same decline, nothing charged.
                again = self.adapter.charge_saved_method(
                    charge_request(method, self.customer, key=key)
                )
                self.assertEqual(again, result)
                event = self.standin.events_of("payment_intent.payment_failed")[-1]
                norm = self.parse(event)
                self.assertEqual(norm.kind, "payment_failed")
                self.assertEqual(norm.decline_code, expected[1])
                self.assertEqual(norm.method_ref, method)
                self.assertEqual(norm.invoice_id, 7)
        self.assertEqual(len(self.standin.objects["payment_intent"]), 4)
        self.assertEqual(self.standin.idempotent_replays, 4)
        auth = self.standin.events_of("payment_intent.payment_failed")[-1]
        self.assertEqual(auth["data"]["object"]["status"], "requires_action")

    def test_debit_processing_then_failed(self):
        self.standin.payment_method("pm_sepa_debit", self.customer)
        result = self.adapter.charge_saved_method(
            charge_request("pm_sepa_debit", self.customer)
        )
        self.assertEqual((result.status, result.decline_code), ("processing", ""))
        (event,) = self.standin.events_of("payment_intent.processing")
        norm = self.parse(event)
        self.assertEqual(norm.kind, "payment_pending")
        self.assertEqual(
            (norm.payment_ref, norm.amount_minor), (result.payment_ref, 12500)
        )
        self.assertEqual(norm.method_ref, "pm_sepa_debit")
        # The intent's event names its charge only: the method type is read.
        self.assertEqual(norm.payment_method, "sepa_debit")
        settled = self.standin.settle_processing(result.payment_ref, succeeded=False)
        (failed,) = settled["events"]
        norm = self.parse(failed)
        self.assertEqual(norm.kind, "payment_failed")
        self.assertEqual(norm.decline_code, "insufficient_funds")
        self.assertEqual(norm.payment_method, "sepa_debit")
        with self.assertRaises(KeyError):
            self.standin.settle_processing(result.payment_ref)
        # The mandate a debit was made under is found from its payment.
        saved = self.adapter.get_saved_method("pm_sepa_debit")
        self.assertTrue(saved.mandate_ref.startswith("mandate_"))

    def test_ach_processing(self):
        self.standin.payment_method("pm_usBankAccount", self.customer)
        result = self.adapter.charge_saved_method(
            charge_request("pm_usBankAccount", self.customer, currency="USD")
        )
        self.assertEqual(result.status, "processing")
        done = self.standin.settle_processing(result.payment_ref)
        self.assertEqual(done["payment_intent"]["status"], "succeeded")

    def test_charge_unreachable_raises(self):
        self.standin.fail_next(500, count=1, path_prefix="/v1/payment_intents")
        with self.assertRaises(GatewayUnreachable):
            self.adapter.charge_saved_method(
                charge_request("pm_card_visa", self.customer)
            )
        # Nothing was charged: the retry with the same key charges once.
        self.assertEqual(len(self.standin.objects["payment_intent"]), 0)
        result = self.adapter.charge_saved_method(
            charge_request("pm_card_visa", self.customer)
        )
        self.assertEqual(result.status, "succeeded")
        self.assertEqual(len(self.standin.objects["payment_intent"]), 1)

    # -- detach ------------------------------------------------------------------

    def test_detach_records_its_event_and_twice_is_fine(self):
        self.standin.payment_method("pm_card_visa", self.customer)
        self.adapter.detach_method("pm_card_visa")
        self.assertIsNone(
            self.standin.get("payment_method", "pm_card_visa")["customer"]
        )
        (event,) = self.standin.events_of("payment_method.detached")
        norm = self.parse(event)
        self.assertEqual(norm.kind, "method_removed")
        self.assertEqual(norm.method_ref, "pm_card_visa")
        self.assertEqual(norm.customer_ref, self.customer)
        self.assertEqual(norm.payment_method, "card")
        # Already detached, or unknown: no error.
        self.adapter.detach_method("pm_card_visa")
        self.adapter.detach_method("pm_unknown")
        self.assertEqual(len(self.standin.events_of("payment_method.detached")), 1)

    def test_attach_route(self):
        method = self.adapter.client.v1.payment_methods.attach(
            "pm_card_mastercard", params={"customer": self.customer}
        )
        self.assertEqual(method.customer, self.customer)
        saved = self.adapter.get_saved_method("pm_card_mastercard")
        self.assertEqual((saved.brand, saved.last4), ("mastercard", "4444"))


@tagged("post_install", "-at_install")
class TestDemoMethodsLib(BaseCase):
    def setUp(self):
        super().setUp()
        self.adapter = get_adapter(
            GatewayConfig(
                provider="demo",
                webhook_secret="whsec_demo",
                extra={"base_url": "https://erp.example.com"},
            )
        )

    def booked(self, webhook):
        payload, headers = webhook
        self.adapter.verify_webhook(payload, headers)
        return self.adapter.parse_event(json.loads(payload))

    def test_capabilities_and_setup_page(self):
        self.assertTrue(self.adapter.saves_methods)
        session = self.adapter.create_setup_checkout(
            SetupRequest(42, "demo_cus_42", "https://s", "https://c", "k", "EUR")
        )
        self.assertTrue(
            session.url.startswith("https://erp.example.com/paycrm/demo/setup/")
        )
        self.assertEqual((session.amount_minor, session.currency), (0, "EUR"))

    def test_charge_outcomes_by_method(self):
        cases = {
            "pm_demo_1": ("succeeded", "", "payment_succeeded"),
            "pm_demo_declined_1": ("declined", "card_declined", "payment_failed"),
            "pm_demo_auth_1": (
                "requires_action",
                "authentication_required",
                "payment_failed",
            ),
            "pm_demo_debit_1": ("processing", "", "payment_pending"),
        }
        for method, (status, code, kind) in cases.items():
            with self.subTest(method=method):
                request = charge_request(method, "demo_cus_1", key=f"key-{method}")
                result = self.adapter.charge_saved_method(request)
                self.assertEqual((result.status, result.decline_code), (status, code))
                norm = self.booked(result.webhook)
                self.assertEqual(norm.kind, kind)
                self.assertEqual(norm.payment_ref, result.payment_ref)
                self.assertEqual((norm.invoice_id, norm.db), (7, "db"))
                self.assertEqual((norm.amount_minor, norm.currency), (12500, "EUR"))
                self.assertEqual(norm.method_ref, method)
                self.assertEqual(norm.decline_code, code)
                # The same key: the same payment and event.
                again = self.adapter.charge_saved_method(request)
                self.assertEqual(again.payment_ref, result.payment_ref)
                self.assertEqual(
                    json.loads(again.webhook[0])["id"],
                    json.loads(result.webhook[0])["id"],
                )

    def test_debit_settles(self):
        request = charge_request("pm_demo_debit_1", "demo_cus_1")
        result = self.adapter.charge_saved_method(request)
        norm = self.booked(
            self.adapter.debit_settled_webhook(result.payment_ref, request)
        )
        self.assertEqual(
            (norm.kind, norm.payment_ref), ("payment_succeeded", result.payment_ref)
        )
        self.assertGreater(norm.fee_minor, 0)
        norm = self.booked(
            self.adapter.debit_settled_webhook(result.payment_ref, request, False)
        )
        self.assertEqual(
            (norm.kind, norm.decline_code), ("payment_failed", "insufficient_funds")
        )

    def test_saved_methods_and_their_events(self):
        card = self.adapter.get_saved_method("pm_demo_3")
        self.assertEqual(
            (card.brand, card.last4, card.method_type), ("visa", "4242", "card")
        )
        debit = self.adapter.get_saved_method("pm_demo_debit_3")
        self.assertEqual(debit.method_type, "sepa_debit")
        self.assertTrue(debit.mandate_ref and debit.mandate_at)
        with self.assertRaises(GatewayError):
            self.adapter.get_saved_method("pm_card_visa")
        norm = self.booked(self.adapter.method_webhook(card, {"paycrm_partner_id": 3}))
        self.assertEqual((norm.kind, norm.method_ref), ("method_saved", "pm_demo_3"))
        self.assertEqual(norm.extra["metadata"], {"paycrm_partner_id": "3"})
        norm = self.booked(self.adapter.method_webhook(card, removed=True))
        self.assertEqual(norm.kind, "method_removed")
        self.assertIsNone(self.adapter.detach_method("pm_demo_3"))

    def test_checkout_payment_saving_the_method(self):
        payload, headers = self.adapter.checkout_webhook(
            "demo_cs_1",
            5000,
            "EUR",
            {"paycrm_invoice_id": "7"},
            method=("card", "visa", "US"),
            method_ref="pm_demo_9",
            customer_ref="demo_cus_1",
        )
        norm = self.booked((payload, headers))
        self.assertTrue(norm.save_method)
        self.assertEqual(
            (norm.method_ref, norm.customer_ref), ("pm_demo_9", "demo_cus_1")
        )
