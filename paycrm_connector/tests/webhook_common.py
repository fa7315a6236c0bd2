"""Signed webhook posts for the demo and Stripe gateways, through real HTTP."""

import json

from odoo.tests import HttpCase

from ..gateways import DemoAdapter, signature
from ..gateways.demo import demo_fee
from .common import PaycrmCommon
from .stripe_standin import make_event, signed_headers


class WebhookCommon(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clearing = cls.demo_gateway.journal_id.default_account_id
        cls.events = cls.env["paycrm.event"]

    # -- payloads ------------------------------------------------------------

    def _meta(self, invoice, db=None):
        return {
            "paycrm_invoice_id": str(invoice.id),
            "paycrm_invoice_name": invoice.name,
            "paycrm_company_id": str(invoice.company_id.id),
            "paycrm_db": db or self.env.cr.dbname,
            "paycrm_link_id": "",
        }

    def _demo_payment(self, invoice, amount_minor, currency=None, ref=None, **meta):
        return DemoAdapter.build_event(
            "payment.succeeded",
            {
                "id": ref or f"demo_pay_{invoice.id}",
                "object": "payment",
                "session": f"demo_cs_{invoice.id}",
                "amount": amount_minor,
                "currency": currency or invoice.currency_id.name.lower(),
                "fee": demo_fee(amount_minor),
                "status": "succeeded",
                "metadata": self._meta(invoice, **meta),
            },
        )

    def _demo_obj_event(self, event_type, obj_id, payment_ref, amount, invoice, **more):
        obj = {
            "id": obj_id,
            "object": event_type.split(".")[0],
            "payment": payment_ref,
            "amount": amount,
            "currency": invoice.currency_id.name.lower(),
            "status": more.pop("status", "succeeded"),
            "metadata": self._meta(invoice),
            **more,
        }
        return DemoAdapter.build_event(event_type, obj)

    @staticmethod
    def _body(event):
        return json.dumps(event).encode()

    # -- posting -------------------------------------------------------------

    def _post_raw(self, gateway, body, headers):
        return self.url_open(
            f"/paycrm/webhook/{gateway.id}", data=body, headers=headers
        )

    def _post_demo(self, event, gateway=None, secret=None, timestamp=None):
        gateway = gateway or self.demo_gateway
        body = event if isinstance(event, bytes) else self._body(event)
        secret = secret or gateway.webhook_secret
        head = {
            "Paycrm-Signature": signature.header(body, secret, timestamp),
            "Content-Type": "application/json",
        }
        return self._post_raw(gateway, body, head)

    def _post_stripe(self, event, timestamp=None, secret=None):
        body = self._body(event)
        secret = secret or self.stripe_gateway.webhook_secret
        return self._post_raw(
            self.stripe_gateway, body, signed_headers(body, secret, timestamp)
        )

    def _stripe_event(self, event_type, obj, event_id=None):
        return make_event(event_type, obj, event_id=event_id)

    def _stripe_paid_session(self, invoice, amount, currency="usd", created=None):
        """A Checkout Session of ``invoice`` paid on the Stripe stand-in (its
        event created at ``created``, epoch seconds, default now)."""
        meta = self._meta(invoice)
        session = self.standin.put(
            "checkout.session",
            {
                "amount_total": amount,
                "currency": currency,
                "status": "open",
                "payment_status": "unpaid",
                "metadata": meta,
                "client_reference_id": str(invoice.id),
                "payment_intent_data": {"metadata": meta},
                "customer": None,
            },
        )
        return self.standin.complete_session(session["id"], created=created)

    def _send_stripe(self, event_type, obj, created=None):
        """Post a signed Stripe event, process it, return the stored event."""
        event = make_event(event_type, obj, created=created)
        self.assertEqual(self._post_stripe(event).status_code, 200)
        self._process()
        return self._event(event["id"], self.stripe_gateway)

    def _process(self, rounds=6):
        """Run the processor until nothing is ready (back-off ignored)."""
        for _round in range(rounds):
            if not self.events._paycrm_process_batch(500, force=True):
                break
        self.env.invalidate_all()

    def _event(self, external_id, gateway=None):
        gateway = gateway or self.demo_gateway
        return self.events.search(
            [("gateway_id", "=", gateway.id), ("external_id", "=", external_id)]
        )

    def _clearing_balance(self, gateway=None):
        account = (gateway or self.demo_gateway).journal_id.default_account_id
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))


class WebhookHttpCase(WebhookCommon, HttpCase):
    pass
