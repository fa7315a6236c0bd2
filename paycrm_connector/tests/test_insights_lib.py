"""Payment method and card country in the normalised events, without the ORM."""

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector import const
from odoo.addons.paycrm_connector.gateways import DemoAdapter, GatewayConfig
from odoo.addons.paycrm_connector.gateways.paypal_events import parse_event
from odoo.addons.paycrm_connector.gateways.stripe_events import parse_stripe_event

from .stripe_standin import fixture, make_event


def _stripe(event_type, obj):
    return parse_stripe_event(make_event(event_type, obj), const.STRIPE_EVENT_KINDS)


def _paypal_capture(**more):
    resource = {
        "id": "CAPT1",
        "status": "COMPLETED",
        "amount": {"currency_code": "EUR", "value": "10.00"},
        "custom_id": "inv=7",
        **more,
    }
    return parse_event(
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource_type": "capture",
            "resource": resource,
        }
    )


def _method(norm):
    return (norm.payment_method, norm.card_brand, norm.card_country)


@tagged("post_install", "-at_install")
class TestPaymentMethodLib(BaseCase):
    def test_stripe_intent_with_expanded_charge(self):
        charge = fixture("charge")  # Stripe's example: a Visa card issued in the US
        intent = fixture(
            "payment_intent",
            status="succeeded",
            amount_received=1099,
            latest_charge=charge,
        )
        norm = _stripe("payment_intent.succeeded", intent)
        self.assertEqual(_method(norm), ("card", "visa", "US"))

    def test_stripe_sepa_debit_has_no_card_country(self):
        charge = fixture(
            "charge",
            payment_method_details={
                "type": "sepa_debit",
                "sepa_debit": {"country": "DE"},
            },
        )
        intent = fixture("payment_intent", status="succeeded", latest_charge=charge)
        norm = _stripe("payment_intent.succeeded", intent)
        self.assertEqual(_method(norm), ("sepa_debit", "", ""))

    def test_stripe_declined_attempt_names_the_card_tried(self):
        intent = fixture(
            "payment_intent",
            status="requires_payment_method",
            last_payment_error={
                "type": "card_error",
                "payment_method": {
                    "id": "pm_1",
                    "type": "card",
                    "card": {"brand": "mastercard", "country": "br"},
                },
            },
        )
        norm = _stripe("payment_intent.payment_failed", intent)
        self.assertEqual(norm.kind, "payment_failed")
        self.assertEqual(_method(norm), ("card", "mastercard", "BR"))

    def test_stripe_session_and_unexpanded_charge_say_nothing_yet(self):
        # Filled in by the adapter's enrich_event, which fetches the charge.
        session = fixture("checkout.session", payment_status="paid", amount_total=500)
        self.assertEqual(
            _stripe("checkout.session.completed", session).payment_method, ""
        )
        intent = fixture("payment_intent", status="succeeded", latest_charge="ch_1")
        self.assertEqual(_stripe("payment_intent.succeeded", intent).payment_method, "")

    def test_paypal_capture_without_source_is_paypal_without_country(self):
        self.assertEqual(_method(_paypal_capture()), ("paypal", "", ""))

    def test_paypal_card_source_gives_brand_and_country(self):
        norm = _paypal_capture(
            payment_source={
                "card": {
                    "brand": "VISA",
                    "last_digits": "1111",
                    "bin_details": {"bin_country_code": "fr"},
                }
            }
        )
        self.assertEqual(_method(norm), ("card", "visa", "FR"))
        venmo = _paypal_capture(payment_source={"venmo": {"email_address": "x@y.z"}})
        self.assertEqual((venmo.payment_method, venmo.card_country), ("venmo", ""))

    def test_demo_payment_carries_the_method_chosen(self):
        adapter = DemoAdapter(GatewayConfig(provider="demo", webhook_secret="s"))
        obj = adapter.payment_object(
            "demo_cs_1", 1000, "EUR", {}, method=("card", "visa", "JP")
        )
        norm = adapter.parse_event(adapter.build_event("payment.succeeded", obj))
        self.assertEqual(_method(norm), ("card", "visa", "JP"))
        obj = adapter.payment_object(
            "demo_cs_1", 1000, "EUR", {}, method=("paypal", "", "")
        )
        norm = adapter.parse_event(adapter.build_event("payment.succeeded", obj))
        self.assertEqual((norm.payment_method, norm.card_country), ("paypal", ""))
        plain = adapter.payment_object("demo_cs_1", 1000, "EUR", {})
        failed = adapter.parse_event(adapter.build_event("payment.failed", plain))
        self.assertEqual(failed.payment_method, "")
