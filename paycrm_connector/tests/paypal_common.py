"""PayPal end-to-end helpers: a PayPal gateway on the local PayPal stand-in,
customers clicking and coming back through real HTTP, webhooks signed by it."""

import json

from ..gateways import paypal
from .link_common import PaycrmLinkCase
from .paypal_standin import WEBHOOK_ID, webhook_headers
from .webhook_common import WebhookCommon


class PaypalFlowCase(PaycrmLinkCase, WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_paypal_gateway()

    def setUp(self):
        super().setUp()
        paypal.clear_token_cache()
        self.paypal_standin.requests.clear()
        for store in ("orders", "captures", "refunds", "reversals", "adjustments"):
            getattr(self.paypal_standin, store).clear()
        self.paypal_standin.next_capture_status = "COMPLETED"
        self.paypal_standin.valid_signatures = True

    # -- customer side -------------------------------------------------------

    def _pp_invoice(self, amount=123.45, currency=None):
        invoice = self._invoice(amount=amount, currency=currency, post=False)
        invoice.paycrm_gateway_id = self.paypal_gateway
        invoice.action_post()
        return invoice

    def _pp_click(self, invoice):
        path = f"{self._path(invoice)}?gateway={self.paypal_gateway.id}"
        response = self._click(invoice, path=path)
        self.env.invalidate_all()
        return response

    def _pp_return(self, invoice, order_id):
        path = f"{self._path(invoice, '/done')}?token={order_id}&PayerID=QYR5Z8XDVJNXQ"
        response = self._click(invoice, path=path)
        self.env.invalidate_all()
        return response

    def _pp_pay(self, invoice):
        """Click, approve on 'PayPal', come back: the capture id."""
        self.assertEqual(self._pp_click(invoice).status_code, 303)
        order_id = invoice.paycrm_link_ids[:1].session_ref
        self.paypal_standin.approve_order(order_id)
        self.assertEqual(self._pp_return(invoice, order_id).status_code, 303)
        return self._capture_of(order_id)["id"]

    def _capture_of(self, order_id):
        unit = self.paypal_standin.orders[order_id]["purchase_units"][0]
        return unit["payments"]["captures"][0]

    # -- PayPal side ---------------------------------------------------------

    def _post_paypal(self, event):
        body = json.dumps(event).encode()
        response = self._post_raw(
            self.paypal_gateway, body, webhook_headers(body, WEBHOOK_ID)
        )
        self.env.invalidate_all()
        return response

    def _pp_event(self, event):
        return self._event(event["id"], self.paypal_gateway)

    def _pp_moves(self):
        return self.env["account.move"].search(
            [("journal_id", "=", self.paypal_gateway.journal_id.id)]
        )
