from odoo.exceptions import UserError
from odoo.tests import tagged

from .webhook_common import WebhookHttpCase


@tagged("post_install", "-at_install")
class TestAuditTrail(WebhookHttpCase):
    def setUp(self):
        super().setUp()
        # The accounting test base turns tracking off; the audit trail needs it.
        self.env = self.env(
            context=dict(self.env.context, tracking_disable=False, mail_notrack=False)
        )
        self.events = self.env["paycrm.event"]

    def _paid_event(self):
        invoice = self._invoice(100.0)
        event = self._demo_payment(invoice, 10000)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        self.env.cr.flush()
        return invoice, self._event(event["id"])

    def test_gateway_amounts_are_tracked_on_the_invoice(self):
        invoice, _event = self._paid_event()
        tracked = invoice.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name in ("paycrm_amount_received", "paycrm_fee_amount")
        )
        self.assertEqual(
            sorted(tracked.mapped("new_value_float")), [1.75, 100.0], tracked
        )

    def test_event_log_is_immutable(self):
        _invoice, event = self._paid_event()
        for vals in (
            {"external_id": "evt_forged"},
            {"payload": '{"forged": true}'},
            {"created": "2020-01-01 00:00:00"},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                event.write(vals)
        self.assertNotEqual(event.external_id, "evt_forged")

    def test_reprocess_is_signed_in_chatter(self):
        invoice = self._invoice(100.0)
        event = self._demo_payment(invoice, 10000, currency="eur")
        self._post_demo(event)
        self._process()
        stored = self._event(event["id"])
        self.assertEqual(stored.state, "unmatched")
        stored.action_paycrm_reprocess()
        bodies = " ".join(stored.message_ids.mapped("body"))
        self.assertIn(f"Reprocessed by {self.env.user.name} (was unmatched)", bodies)
