"""Checks of the Stripe stand-in itself, driven by the real ``stripe`` SDK (no Odoo)."""

import json

import pytest
import stripe

from .stripe_standin import (
    StripeStandin,
    decode_form,
    make_event,
    sign,
    signed_headers,
)


@pytest.fixture
def standin():
    with StripeStandin() as server:
        yield server


def client_for(standin, key="sk_test_x", timeout=5):
    return stripe.StripeClient(
        key,
        base_addresses={"api": standin.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def test_decode_form_bracket_notation():
    pairs = [
        ("line_items[1][quantity]", "2"),
        ("line_items[0][price_data][currency]", "eur"),
        ("metadata[invoice]", "INV/1"),
        ("expand[]", "a"),
        ("expand[]", "b"),
        ("plain", ""),
    ]
    assert decode_form(pairs) == {
        "line_items": [{"price_data": {"currency": "eur"}}, {"quantity": "2"}],
        "metadata": {"invoice": "INV/1"},
        "expand": ["a", "b"],
        "plain": "",
    }


def test_balance_over_plain_http(standin):
    balance = client_for(standin).v1.balance.retrieve()
    assert balance.object == "balance"
    assert balance.available[0].currency == "usd"
    req = standin.last("GET", "/v1/balance")
    assert req.headers["authorization"] == "Bearer sk_test_x"


def test_customer_create_update_idempotent(standin):
    client = client_for(standin)
    params = {"email": "a@example.com", "name": "Ann", "metadata": {"partner": "7"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": "k1"})
    again = client.v1.customers.create(params=params, options={"idempotency_key": "k1"})
    assert first.id == again.id == "cus_standin_1"
    assert standin.idempotent_replays == 1
    assert len(standin.objects["customer"]) == 1
    assert standin.last("POST", "/v1/customers").headers["IDEMPOTENCY-KEY"] == "k1"
    # Stripe refuses a reused key with other parameters.
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "k1"}
        )

    updated = client.v1.customers.update(
        first.id, params={"name": "Anna", "metadata": {"ref": "x"}}
    )
    assert updated.name == "Anna" and updated.email == "a@example.com"
    assert updated.metadata.to_dict() == {"partner": "7", "ref": "x"}
    assert client.v1.customers.retrieve(first.id).name == "Anna"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.retrieve("cus_nope")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def test_checkout_session_params_and_lifecycle(standin):
    client = client_for(standin)
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "client_reference_id": "INV/2024/0001",
            "metadata": {"paycrm_invoice_id": "42"},
            "payment_intent_data": {"metadata": {"paycrm_invoice_id": "42"}},
            "success_url": "https://erp.example.com/ok",
            "cancel_url": "https://erp.example.com/cancel",
            "expires_at": 1893456000,
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1050,
                        "product_data": {"name": "Consulting"},
                    },
                },
                {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 99}},
            ],
        },
        options={"idempotency_key": "cs-1"},
    )
    assert session.id == "cs_standin_1"
    assert (session.amount_total, session.currency) == (2199, "eur")
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url == f"{standin.url}/pay/{session.id}"
    assert session.metadata.paycrm_invoice_id == "42"
    assert session.expires_at == 1893456000 and session.customer == customer.id
    params = standin.last("POST", "/v1/checkout/sessions").params
    assert params["line_items"][0]["price_data"]["product_data"]["name"] == "Consulting"
    assert params["payment_intent_data"] == {"metadata": {"paycrm_invoice_id": "42"}}

    paid = standin.complete_session(session.id)
    txn = paid["balance_transaction"]
    assert (txn["fee"], txn["net"]) == (94, 2105)  # 2.9% of 2199 = 63.8 -> 64, + 30
    assert paid["payment_intent"]["metadata"] == {"paycrm_invoice_id": "42"}
    got = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    assert got.payment_status == "paid"
    assert got.payment_intent.latest_charge.balance_transaction == txn["id"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)

    other = client.v1.checkout.sessions.create(params={"mode": "payment"})
    assert client.v1.checkout.sessions.expire(other.id).status == "expired"


def test_refund_and_balance_transactions(standin):
    client = client_for(standin)
    session = standin.put("checkout.session", {"amount_total": 1000, "currency": "eur"})
    paid = standin.complete_session(session["id"])
    refund = client.v1.refunds.create(
        params={"payment_intent": paid["payment_intent"]["id"], "amount": 400}
    )
    assert (refund.status, refund.amount, refund.charge) == (
        "succeeded",
        400,
        paid["charge"]["id"],
    )
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 400
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": refund.charge, "amount": 601})
    page = client.v1.balance_transactions.list(params={"limit": 1})
    assert page.has_more and page.data[0].type == "refund"
    rest = client.v1.balance_transactions.list(
        params={"starting_after": page.data[0].id}
    )
    assert [t.type for t in rest.data] == ["charge"] and not rest.has_more
    standin.put("payout", {"id": "po_1", "amount": 596})
    assert client.v1.payouts.retrieve("po_1").amount == 596
    standin.put("dispute", {"id": "dp_1", "charge": refund.charge})
    assert client.v1.disputes.retrieve("dp_1").charge == refund.charge


def test_auth_failure(standin):
    standin.valid_keys = {"sk_test_good"}
    with pytest.raises(stripe.AuthenticationError) as err:
        client_for(standin, key="sk_test_bad").v1.balance.retrieve()
    assert "Invalid API Key provided" in err.value.user_message
    client_for(standin, key="sk_test_good").v1.balance.retrieve()


def test_fault_injection_and_retry_with_same_key(standin):
    client = client_for(standin)
    standin.fail_next(500, path_prefix="/v1/customers")
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(
            params={"name": "A"}, options={"idempotency_key": "r"}
        )
    retried = client.v1.customers.create(
        params={"name": "A"}, options={"idempotency_key": "r"}
    )
    assert retried.name == "A" and standin.idempotent_replays == 0
    assert [r.status for r in standin.requests] == [500, 200]


def test_delay_times_out(standin):
    standin.delay = 1.0
    with pytest.raises(stripe.APIConnectionError):
        client_for(standin, timeout=0.2).v1.balance.retrieve()


def test_unknown_path_is_404(standin):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client_for(standin).raw_request("get", "/v1/nothing_here")
    assert err.value.http_status == 404


def test_webhook_signature_round_trip(standin):
    session = standin.put("checkout.session", {"amount_total": 500})
    event = make_event("checkout.session.completed", session)
    payload = json.dumps(event).encode()
    headers = signed_headers(payload, "whsec_test")
    assert headers["Content-Type"] == "application/json"
    parsed = stripe.Webhook.construct_event(
        payload, headers["Stripe-Signature"], "whsec_test"
    )
    assert parsed.type == "checkout.session.completed"
    assert parsed.data.object.id == session["id"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            payload, sign(payload, "whsec_other"), "whsec_test"
        )
    stale = sign(payload, "whsec_test", timestamp=1_000_000)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stale, "whsec_test")
