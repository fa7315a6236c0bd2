"""Payment method and card country in the normalised events, without the ORM."""

from odoo.addons.paycrm_connector import const
from odoo.addons.paycrm_connector.gateways import DemoAdapter, GatewayConfig
from odoo.addons.paycrm_connector.gateways.paypal_events import parse_event
from odoo.addons.paycrm_connector.gateways.stripe_events import parse_stripe_event

from .stripe_standin import fixture, make_event


def _stripe(event_type, obj):
    return parse_stripe_event(make_event(event_type, obj), const.STRIPE_EVENT_KINDS)


def test_stripe_intent_with_expanded_charge():
    charge = fixture("charge")  # Stripe's example: a Visa card issued in the US
    intent = fixture(
        "payment_intent", status="succeeded", amount_received=1099, latest_charge=charge
    )
    norm = _stripe("payment_intent.succeeded", intent)
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "card",
        "visa",
        "US",
    )


def test_stripe_sepa_debit_has_no_card_country():
    charge = fixture(
        "charge",
        payment_method_details={"type": "sepa_debit", "sepa_debit": {"country": "DE"}},
    )
    intent = fixture("payment_intent", status="succeeded", latest_charge=charge)
    norm = _stripe("payment_intent.succeeded", intent)
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "sepa_debit",
        "",
        "",
    )


def test_stripe_declined_attempt_names_the_card_tried():
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
    assert norm.kind == "payment_failed"
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "card",
        "mastercard",
        "BR",
    )


def test_stripe_session_and_unexpanded_charge_say_nothing_yet():
    # Filled in by the adapter's enrich_event, which fetches the charge.
    session = fixture("checkout.session", payment_status="paid", amount_total=500)
    assert _stripe("checkout.session.completed", session).payment_method == ""
    intent = fixture("payment_intent", status="succeeded", latest_charge="ch_1")
    assert _stripe("payment_intent.succeeded", intent).payment_method == ""


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


def test_paypal_capture_without_source_is_paypal_without_country():
    norm = _paypal_capture()
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "paypal",
        "",
        "",
    )


def test_paypal_card_source_gives_brand_and_country():
    norm = _paypal_capture(
        payment_source={
            "card": {
                "brand": "VISA",
                "last_digits": "1111",
                "bin_details": {"bin_country_code": "fr"},
            }
        }
    )
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "card",
        "visa",
        "FR",
    )
    venmo = _paypal_capture(payment_source={"venmo": {"email_address": "x@y.z"}})
    assert (venmo.payment_method, venmo.card_country) == ("venmo", "")


def test_demo_payment_carries_the_method_chosen():
    adapter = DemoAdapter(GatewayConfig(provider="demo", webhook_secret="s"))
    obj = adapter.payment_object(
        "demo_cs_1", 1000, "EUR", {}, method=("card", "visa", "JP")
    )
    norm = adapter.parse_event(adapter.build_event("payment.succeeded", obj))
    assert (norm.payment_method, norm.card_brand, norm.card_country) == (
        "card",
        "visa",
        "JP",
    )
    obj = adapter.payment_object(
        "demo_cs_1", 1000, "EUR", {}, method=("paypal", "", "")
    )
    norm = adapter.parse_event(adapter.build_event("payment.succeeded", obj))
    assert (norm.payment_method, norm.card_country) == ("paypal", "")
    plain = adapter.payment_object("demo_cs_1", 1000, "EUR", {})
    assert (
        adapter.parse_event(adapter.build_event("payment.failed", plain)).payment_method
        == ""
    )
