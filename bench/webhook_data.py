"""Data and signed payloads for bench_webhooks.py: invoices, gateways, Odoo's
Stripe provider and transactions, and webhook bodies for both sides."""

import json
import secrets
import time

import standins
import stripe

from odoo import Command

from odoo.addons.paycrm_connector.gateways import DemoAdapter, signature
from odoo.addons.paycrm_connector.gateways.demo import demo_fee

CREATE_BATCH = 500
INVOICES_PER_PARTNER = 50
OUR_STRIPE_SECRET = "whsec_bench_paycrm"
THEIR_STRIPE_SECRET = "whsec_bench_odoo"


standin = standins.load("stripe_standin")


def make_gateways(env):
    """Our demo and Stripe gateways (the Stripe one pointed at ``api_base``)."""
    company = env.ref("base.main_company")
    gateways = env["paycrm.gateway"]
    demo = gateways.create(
        {"name": "Bench demo", "provider": "demo", "company_id": company.id}
    )
    ours = gateways.create(
        {
            "name": "Bench Stripe",
            "provider": "stripe",
            "company_id": company.id,
            "secret_key": "sk_test_bench",
            "webhook_secret": OUR_STRIPE_SECRET,
            "max_network_retries": 0,
            "timeout": 5.0,
        }
    )
    return demo, ours


def make_provider(env):
    """Odoo's own Stripe provider, in test mode, with a webhook secret."""
    provider = env.ref("payment.payment_provider_stripe")
    provider.write(
        {
            "state": "test",
            "stripe_secret_key": "sk_test_bench_odoo",
            "stripe_publishable_key": "pk_test_bench_odoo",
            "stripe_webhook_secret": THEIR_STRIPE_SECRET,
        }
    )
    return provider


def make_invoices(env, count, amount, tag):
    """``count`` posted customer invoices of ``amount``, created in batches and
    committed as they go; returns plain dicts (id, name, minor, currency)."""
    company = env.ref("base.main_company")
    partners = env["res.partner"].create(
        [
            {"name": f"Bench {tag} customer {n}"}
            for n in range(max(1, -(-count // INVOICES_PER_PARTNER)))
        ]
    )
    rows = []
    for start in range(0, count, CREATE_BATCH):
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "company_id": company.id,
                    "partner_id": partners[n // INVOICES_PER_PARTNER].id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
                for n in range(start, min(start + CREATE_BATCH, count))
            ]
        )
        moves.action_post()
        rows += [
            {
                "id": move.id,
                "name": move.name,
                "company_id": company.id,
                "partner_id": move.partner_id.id,
                "minor": round(move.amount_total * 100),
                "currency": move.currency_id.name.lower(),
            }
            for move in moves
        ]
        env.cr.commit()
        env.invalidate_all()
    return rows


def make_transactions(env, provider, count, tag, invoices=None, done=False):
    """Odoo payment transactions on ``provider`` (draft, or done and waiting
    for post-processing), linked one to one with ``invoices`` when given."""
    card = env.ref("payment.payment_method_card")
    partner = env["res.partner"].create({"name": f"Bench {tag} payer"})
    currency = env.ref("base.main_company").currency_id
    txs = env["payment.transaction"]
    for start in range(0, count, CREATE_BATCH):
        vals = []
        for n in range(start, min(start + CREATE_BATCH, count)):
            invoice = invoices[n] if invoices else None
            vals.append(
                {
                    "provider_id": provider.id,
                    "payment_method_id": card.id,
                    "reference": f"BENCH-{tag}-{n}",
                    "amount": invoice["minor"] / 100 if invoice else 100.0,
                    "currency_id": currency.id,
                    "partner_id": invoice["partner_id"] if invoice else partner.id,
                    "operation": "online_redirect",
                    "invoice_ids": [Command.set([invoice["id"]])] if invoice else [],
                }
            )
        batch = env["payment.transaction"].create(vals)
        if done:
            for n, tx in enumerate(batch, start):
                tx.provider_reference = f"pi_bench_{tag}_{n}"
            batch._set_done()
        txs |= batch
        env.cr.commit()
    return [{"id": tx.id, "reference": tx.reference} for tx in txs]


def meta(invoice, db):
    return {
        "paycrm_invoice_id": str(invoice["id"]),
        "paycrm_invoice_name": invoice["name"],
        "paycrm_company_id": str(invoice["company_id"]),
        "paycrm_db": db,
        "paycrm_link_id": "",
    }


def demo_payment(invoice, db, secret, minor=None, ref=None):
    """A signed demo ``payment.succeeded``: ``(body, headers)``."""
    minor = invoice["minor"] if minor is None else minor
    event = DemoAdapter.build_event(
        "payment.succeeded",
        {
            "id": ref or f"demo_pay_{secrets.token_hex(12)}",
            "object": "payment",
            "session": f"demo_cs_{secrets.token_hex(12)}",
            "amount": minor,
            "currency": invoice["currency"],
            "fee": demo_fee(minor),
            "status": "succeeded",
            "metadata": meta(invoice, db),
        },
    )
    body = DemoAdapter.payload(event)
    return body, {
        "Paycrm-Signature": signature.header(body, secret),
        "Content-Type": "application/json",
    }


def _stripe_signed(event, secret):
    body = json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, int(time.time())
    )
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def checkout_session(invoice, db):
    """A paid Stripe Checkout Session for ``invoice``, as our links create it."""
    data = meta(invoice, db)
    return standin.fixture(
        "checkout.session",
        id=f"cs_bench_{secrets.token_hex(12)}",
        amount_total=invoice["minor"],
        currency=invoice["currency"],
        status="complete",
        payment_status="paid",
        payment_intent=f"pi_bench_{secrets.token_hex(12)}",
        client_reference_id=str(invoice["id"]),
        metadata=data,
        customer=None,
    )


def checkout_completed(invoice, db):
    """Our side: a signed ``checkout.session.completed`` for ``invoice``."""
    session = checkout_session(invoice, db)
    event = standin.make_event(
        "checkout.session.completed", session, event_id=f"evt_{secrets.token_hex(12)}"
    )
    return _stripe_signed(event, OUR_STRIPE_SECRET)


def intent_succeeded(tx_reference, amount_minor, currency):
    """Their side: a signed ``payment_intent.succeeded`` for a transaction."""
    intent = standin.fixture(
        "payment_intent",
        id=f"pi_bench_{secrets.token_hex(12)}",
        description=tx_reference,
        amount=amount_minor,
        amount_received=amount_minor,
        currency=currency,
        status="succeeded",
        metadata={},
    )
    event = standin.make_event(
        "payment_intent.succeeded", intent, event_id=f"evt_{secrets.token_hex(12)}"
    )
    return _stripe_signed(event, THEIR_STRIPE_SECRET)
