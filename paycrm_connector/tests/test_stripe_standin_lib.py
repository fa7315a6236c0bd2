"""Checks of the Stripe stand-in itself, driven by the real ``stripe`` SDK (no Odoo)."""

import json

import stripe

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from .stripe_standin import (
    StripeStandin,
    decode_form,
    make_event,
    sign,
    signed_headers,
)


def client_for(standin, key="sk_test_x", timeout=5):
    return stripe.StripeClient(
        key,
        base_addresses={"api": standin.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


@tagged("post_install", "-at_install")
class TestStripeStandinForm(BaseCase):
    def test_decode_form_bracket_notation(self):
        pairs = [
            ("line_items[1][quantity]", "2"),
            ("line_items[0][price_data][currency]", "eur"),
            ("metadata[invoice]", "INV/1"),
            ("expand[]", "a"),
            ("expand[]", "b"),
            ("plain", ""),
        ]
        self.assertEqual(
            decode_form(pairs),
            {
                "line_items": [{"price_data": {"currency": "eur"}}, {"quantity": "2"}],
                "metadata": {"invoice": "INV/1"},
                "expand": ["a", "b"],
                "plain": "",
            },
        )


@tagged("post_install", "-at_install")
class TestStripeStandin(BaseCase):
    """A fresh Stripe stand-in (``self.standin``) for each test."""

    def setUp(self):
        super().setUp()
        self.standin = StripeStandin().start()
        self.addCleanup(self.standin.stop)

    def test_balance_over_plain_http(self):
        balance = client_for(self.standin).v1.balance.retrieve()
        self.assertEqual(balance.object, "balance")
        self.assertEqual(balance.available[0].currency, "usd")
        req = self.standin.last("GET", "/v1/balance")
        self.assertEqual(req.headers["authorization"], "Bearer sk_test_x")

    def test_customer_create_update_idempotent(self):
        standin = self.standin
        client = client_for(standin)
        params = {
            "email": "a@example.com",
            "name": "Ann",
            "metadata": {"partner": "7"},
        }
        key = {"idempotency_key": "k1"}
        first = client.v1.customers.create(params=params, options=key)
        again = client.v1.customers.create(params=params, options=key)
        self.assertEqual(first.id, "cus_standin_1")
        self.assertEqual(again.id, first.id)
        self.assertEqual(standin.idempotent_replays, 1)
        self.assertEqual(len(standin.objects["customer"]), 1)
        self.assertEqual(
            standin.last("POST", "/v1/customers").headers["IDEMPOTENCY-KEY"], "k1"
        )
        # Stripe refuses a reused key with other parameters.
        with self.assertRaises(stripe.IdempotencyError):
            client.v1.customers.create(params={"email": "b@example.com"}, options=key)

        updated = client.v1.customers.update(
            first.id, params={"name": "Anna", "metadata": {"ref": "x"}}
        )
        self.assertEqual(updated.name, "Anna")
        self.assertEqual(updated.email, "a@example.com")
        self.assertEqual(updated.metadata.to_dict(), {"partner": "7", "ref": "x"})
        self.assertEqual(client.v1.customers.retrieve(first.id).name, "Anna")
        with self.assertRaises(stripe.InvalidRequestError) as err:
            client.v1.customers.retrieve("cus_nope")
        self.assertEqual(err.exception.http_status, 404)
        self.assertEqual(err.exception.code, "resource_missing")

    def test_checkout_session_params_and_lifecycle(self):
        standin = self.standin
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
                    {
                        "quantity": 1,
                        "price_data": {"currency": "eur", "unit_amount": 99},
                    },
                ],
            },
            options={"idempotency_key": "cs-1"},
        )
        self.assertEqual(session.id, "cs_standin_1")
        self.assertEqual((session.amount_total, session.currency), (2199, "eur"))
        self.assertEqual((session.status, session.payment_status), ("open", "unpaid"))
        self.assertEqual(session.url, f"{standin.url}/pay/{session.id}")
        self.assertEqual(session.metadata.paycrm_invoice_id, "42")
        self.assertEqual(session.expires_at, 1893456000)
        self.assertEqual(session.customer, customer.id)
        params = standin.last("POST", "/v1/checkout/sessions").params
        self.assertEqual(
            params["line_items"][0]["price_data"]["product_data"]["name"],
            "Consulting",
        )
        self.assertEqual(
            params["payment_intent_data"], {"metadata": {"paycrm_invoice_id": "42"}}
        )

        paid = standin.complete_session(session.id)
        txn = paid["balance_transaction"]
        # 2.9 % of 2199 = 63.8 -> 64, + 30
        self.assertEqual((txn["fee"], txn["net"]), (94, 2105))
        self.assertEqual(
            paid["payment_intent"]["metadata"], {"paycrm_invoice_id": "42"}
        )
        got = client.v1.checkout.sessions.retrieve(
            session.id, params={"expand": ["payment_intent.latest_charge"]}
        )
        self.assertEqual(got.payment_status, "paid")
        self.assertEqual(
            got.payment_intent.latest_charge.balance_transaction, txn["id"]
        )
        with self.assertRaises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.expire(session.id)

        other = client.v1.checkout.sessions.create(params={"mode": "payment"})
        self.assertEqual(client.v1.checkout.sessions.expire(other.id).status, "expired")

    def test_refund_and_balance_transactions(self):
        standin = self.standin
        client = client_for(standin)
        session = standin.put(
            "checkout.session", {"amount_total": 1000, "currency": "eur"}
        )
        paid = standin.complete_session(session["id"])
        refund = client.v1.refunds.create(
            params={"payment_intent": paid["payment_intent"]["id"], "amount": 400}
        )
        self.assertEqual(
            (refund.status, refund.amount, refund.charge),
            ("succeeded", 400, paid["charge"]["id"]),
        )
        self.assertEqual(client.v1.charges.retrieve(refund.charge).amount_refunded, 400)
        with self.assertRaises(stripe.InvalidRequestError):
            client.v1.refunds.create(params={"charge": refund.charge, "amount": 601})
        page = client.v1.balance_transactions.list(params={"limit": 1})
        self.assertTrue(page.has_more)
        self.assertEqual(page.data[0].type, "refund")
        rest = client.v1.balance_transactions.list(
            params={"starting_after": page.data[0].id}
        )
        self.assertEqual([t.type for t in rest.data], ["charge"])
        self.assertFalse(rest.has_more)
        standin.put("payout", {"id": "po_1", "amount": 596})
        self.assertEqual(client.v1.payouts.retrieve("po_1").amount, 596)
        standin.put("dispute", {"id": "dp_1", "charge": refund.charge})
        self.assertEqual(client.v1.disputes.retrieve("dp_1").charge, refund.charge)

    def test_auth_failure(self):
        self.standin.valid_keys = {"sk_test_good"}
        with self.assertRaises(stripe.AuthenticationError) as err:
            client_for(self.standin, key="sk_test_bad").v1.balance.retrieve()
        self.assertIn("Invalid API Key provided", err.exception.user_message)
        client_for(self.standin, key="sk_test_good").v1.balance.retrieve()

    def test_fault_injection_and_retry_with_same_key(self):
        standin = self.standin
        client = client_for(standin)
        standin.fail_next(500, path_prefix="/v1/customers")
        with self.assertRaises(stripe.APIError):
            client.v1.customers.create(
                params={"name": "A"}, options={"idempotency_key": "r"}
            )
        retried = client.v1.customers.create(
            params={"name": "A"}, options={"idempotency_key": "r"}
        )
        self.assertEqual(retried.name, "A")
        self.assertEqual(standin.idempotent_replays, 0)
        self.assertEqual([r.status for r in standin.requests], [500, 200])

    def test_delay_times_out(self):
        self.standin.delay = 1.0
        with self.assertRaises(stripe.APIConnectionError):
            client_for(self.standin, timeout=0.2).v1.balance.retrieve()

    def test_unknown_path_is_404(self):
        with self.assertRaises(stripe.InvalidRequestError) as err:
            client_for(self.standin).raw_request("get", "/v1/nothing_here")
        self.assertEqual(err.exception.http_status, 404)

    def test_webhook_signature_round_trip(self):
        session = self.standin.put("checkout.session", {"amount_total": 500})
        event = make_event("checkout.session.completed", session)
        payload = json.dumps(event).encode()
        headers = signed_headers(payload, "whsec_test")
        self.assertEqual(headers["Content-Type"], "application/json")
        parsed = stripe.Webhook.construct_event(
            payload, headers["Stripe-Signature"], "whsec_test"
        )
        self.assertEqual(parsed.type, "checkout.session.completed")
        self.assertEqual(parsed.data.object.id, session["id"])
        with self.assertRaises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(
                payload, sign(payload, "whsec_other"), "whsec_test"
            )
        stale = sign(payload, "whsec_test", timestamp=1_000_000)
        with self.assertRaises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(payload, stale, "whsec_test")
