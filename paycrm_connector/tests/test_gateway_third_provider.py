"""A third gateway needs only an adapter and a selection value.

``ThirdpayAdapter`` is a minimal provider defined here, registered in
``gateways.ADAPTERS`` and in the gateway's provider selection for the test
only: with nothing else changed, a gateway record of it hands out a checkout
for an invoice, its signed webhook goes through the real
``/paycrm/webhook/<id>`` intake, and the payment is booked on the invoice.
"""

import itertools
import json
from unittest.mock import patch

from odoo.tests import tagged

from .. import gateways
from ..gateways import (
    CheckoutSession,
    GatewayAdapter,
    NormalizedEvent,
    signature,
)
from .webhook_common import WebhookHttpCase

SIGNATURE_HEADER = "Thirdpay-Signature"
_sessions = itertools.count(1)


class ThirdpayAdapter(GatewayAdapter):
    """A made-up card gateway: hosted pages elsewhere, HMAC-signed webhooks."""

    code = "thirdpay"
    event_kinds = {"charge.paid": "payment_succeeded"}

    def check_connection(self):
        return "thirdpay test account"

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        return reference or f"tp_cus_{customer.partner_id}"

    def create_checkout(self, request):
        session_id = f"tp_cs_{next(_sessions)}"
        return CheckoutSession(
            session_id=session_id,
            url=f"https://pay.thirdpay.example/{session_id}",
            amount_minor=request.amount_minor,
            currency=request.currency,
            expires_at=request.expires_at,
        )

    def expire_checkout(self, session_id):
        return "expired"

    def verify_webhook(self, payload, headers):
        signature.verify(
            payload, headers.get(SIGNATURE_HEADER), self.config.webhook_secret
        )

    def parse_event(self, event):
        head = self.envelope(event)
        obj = event["data"]["object"]
        meta = obj.get("metadata") or {}
        return NormalizedEvent(
            external_id=head.external_id,
            event_type=head.event_type,
            kind=head.kind,
            created=head.created or 0,
            object_ref=obj["id"],
            payment_ref=obj["id"],
            session_ref=obj["session"],
            invoice_id=int(meta["paycrm_invoice_id"]),
            db=meta.get("paycrm_db", ""),
            amount_minor=obj["amount"],
            currency=obj["currency"].upper(),
            fee_minor=obj.get("fee", 0),
            extra={"metadata": meta},
        )


@tagged("post_install", "-at_install")
class TestGatewayThirdProvider(WebhookHttpCase):
    def setUp(self):
        super().setUp()
        # The two registrations a new gateway needs, undone after the test.
        registry = patch.dict(gateways.ADAPTERS, {"thirdpay": ThirdpayAdapter})
        registry.start()
        self.addCleanup(registry.stop)
        provider = self.env["paycrm.gateway"]._fields["provider"]
        selection = [*provider.selection, ("thirdpay", "Third")]
        # As the registry sets a static selection up (values checked on write).
        self.patch(provider, "selection", selection)
        self.patch(provider, "_selection", dict(selection))
        self.gateway = self.env["paycrm.gateway"].create(
            {
                "name": "Thirdpay",
                "provider": "thirdpay",
                "company_id": self.company.id,
                "webhook_secret": "tp_secret",
            }
        )

    def test_checkout_webhook_booking(self):
        self.assertEqual(
            self.gateway.action_paycrm_test_connection()["params"]["type"], "success"
        )
        invoice = self._invoice(120.0, post=False)
        invoice.paycrm_gateway_id = self.gateway
        invoice.action_post()

        # The customer's click hands out the adapter's hosted checkout.
        response = self.url_open(
            f"/paycrm/pay/{invoice.id}/{invoice.access_token}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        link = invoice.paycrm_link_ids
        self.assertEqual(response.headers["Location"], link.url)
        self.assertTrue(link.url.startswith("https://pay.thirdpay.example/tp_cs_"))
        self.assertEqual(link.gateway_id, self.gateway)

        # The gateway's webhook, signed with the gateway's secret.
        event = {
            "id": "tp_evt_1",
            "type": "charge.paid",
            "created": 1767225600,
            "data": {
                "object": {
                    "id": "tp_ch_1",
                    "session": link.session_ref,
                    "amount": link.amount_minor,
                    "currency": invoice.currency_id.name.lower(),
                    "fee": 100,
                    "metadata": link._paycrm_metadata(),
                }
            },
        }
        body = json.dumps(event).encode()
        headers = {
            SIGNATURE_HEADER: signature.header(body, "tp_secret"),
            "Content-Type": "application/json",
        }
        response = self._post_raw(self.gateway, body, headers)
        self.assertEqual((response.status_code, response.text), (200, "ok"))
        stored = self._event("tp_evt_1", self.gateway)
        self.assertEqual((stored.kind, stored.state), ("payment_succeeded", "received"))

        self._process()
        self.assertEqual(stored.state, "done", stored.last_error)
        self.assertEqual(stored.invoice_id, invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.paycrm_link_ids.state, "paid")

    def test_bad_signature_is_refused(self):
        body = json.dumps({"id": "tp_evt_2", "type": "charge.paid"}).encode()
        response = self._post_raw(
            self.gateway, body, {SIGNATURE_HEADER: signature.header(body, "wrong")}
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._event("tp_evt_2", self.gateway))
