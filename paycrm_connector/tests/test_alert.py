from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..gateways import DemoAdapter
from .insights_common import InsightsCommon
from .webhook_common import WebhookHttpCase


def _alerts(env, kind):
    return env["paycrm.alert"].search([("kind", "=", kind)])


@tagged("post_install", "-at_install")
class TestLargePaymentAlert(InsightsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = cls._make_user(
            "paycrm_alert_sales", ["base.group_user", "account.group_account_invoice"]
        )
        cls.customer.user_id = cls.salesperson
        cls.company.paycrm_alert_large_floor = 1000.0

    def setUp(self):
        super().setUp()
        today = fields.Date.context_today(self.env.user)
        # Usual payments: 100, 120, 150 in the last three months.
        for n, amount in enumerate((100, 120, 150), start=1):
            day = today - timedelta(days=30 * n)
            self._pay(self._invoice_on(amount, day, day), day)
        self._commit_hooks()
        self.today = today

    def test_fires_once_with_activity_for_salesperson(self):
        invoice = self._invoice_on(2000, self.today, self.today)
        payment = self._pay(invoice, self.today)
        self._commit_hooks()
        alert = _alerts(self.env, "large_payment")
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.partner_id, self.customer)
        self.assertEqual(alert.amount, 2000.0)
        self.assertIn("16.7 times its median payment", alert.message)
        self.assertEqual(alert.activity_ids.user_id, self.salesperson)
        # Unreconciled and matched again: same payment, same window, no new alert.
        invoice.line_ids.remove_move_reconcile()
        (invoice + payment.move_id).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        self._commit_hooks()
        self.assertEqual(len(_alerts(self.env, "large_payment")), 1)
        alert.action_paycrm_acknowledge()
        self.assertEqual(alert.state, "acknowledged")
        self.assertFalse(alert.activity_ids)

    def test_normal_and_below_floor_payments_are_quiet(self):
        for amount in (180, 900):  # usual; 7.5x the median but under the floor
            invoice = self._invoice_on(amount, self.today, self.today)
            self._pay(invoice, self.today)
            self._commit_hooks()
        self.assertFalse(_alerts(self.env, "large_payment"))

    def test_no_alert_without_history(self):
        invoice = self._invoice_on(5000, self.today, self.today, self.other)
        self._pay(invoice, self.today)
        self._commit_hooks()
        self.assertFalse(_alerts(self.env, "large_payment"))

    def test_administrators_notified_when_asked(self):
        self.company.paycrm_alert_email_admins = True
        admin = self._make_user(
            "paycrm_alert_admin",
            ["base.group_user", "paycrm_connector.group_paycrm_manager"],
        )
        self._pay(self._invoice_on(3000, self.today, self.today), self.today)
        self._commit_hooks()
        alert = _alerts(self.env, "large_payment")
        notified = alert.message_ids.notification_ids.res_partner_id
        self.assertIn(admin.partner_id, notified)

    def test_alert_model_is_offered_to_automation_rules(self):
        model = self.env["ir.model"]._get("paycrm.alert")
        self.assertTrue(model.is_mail_thread)
        rule = self.env["base.automation"].create(
            {
                "name": "Tag alerted customers",
                "model_id": model.id,
                "trigger": "on_create",
            }
        )
        self.env["ir.actions.server"].create(
            {
                "name": "Flag",
                "model_id": model.id,
                "base_automation_id": rule.id,
                "state": "object_write",
                "update_path": "message",
                "value": "seen by automation",
                "evaluation_type": "value",
            }
        )
        self._pay(self._invoice_on(4000, self.today, self.today), self.today)
        self._commit_hooks()
        self.assertEqual(
            _alerts(self.env, "large_payment").message, "seen by automation"
        )


@tagged("post_install", "-at_install")
class TestGatewayAlerts(WebhookHttpCase):
    def _send(self, event):
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        self.env.cr.flush()

    def _failed(self, invoice, n):
        return DemoAdapter.build_event(
            "payment.failed",
            {
                "id": f"demo_pay_fail_{invoice.id}_{n}",
                "object": "payment",
                "session": f"demo_cs_{invoice.id}",
                "amount": 10000,
                "currency": invoice.currency_id.name.lower(),
                "fee": 0,
                "status": "failed",
                "metadata": self._meta(invoice),
            },
        )

    def test_failed_attempts_once_per_window(self):
        invoice = self._invoice(100.0)
        for n in (1, 2):
            self._send(self._failed(invoice, n))
        self.assertFalse(_alerts(self.env, "failed_attempts"))
        self._send(self._failed(invoice, 3))
        alerts = _alerts(self.env, "failed_attempts")
        self.assertEqual(len(alerts), 2)  # the invoice and the customer
        self.assertEqual(alerts.invoice_id, invoice)
        self.assertIn("3 failed payment attempts", alerts[0].message)
        self._send(self._failed(invoice, 4))
        self.assertEqual(len(_alerts(self.env, "failed_attempts")), 2)

    def test_dispute_opened_once(self):
        invoice = self._invoice(100.0)
        self._send(self._demo_payment(invoice, 10000))
        self.assertFalse(self.env["paycrm.alert"].search([]))  # a normal payment
        opened = self._demo_obj_event(
            "dispute.opened", "demo_dp_1", f"demo_pay_{invoice.id}", 10000, invoice,
            fee=1500, status="needs_response",
        )  # fmt: skip
        self._send(opened)
        alert = _alerts(self.env, "dispute_opened")
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.invoice_id, invoice)
        self.assertEqual(alert.amount, 100.0)
        # The gateway sends the same dispute again under a new event id.
        opened["id"] = "evt_demo_again"
        self._send(opened)
        self.assertEqual(len(_alerts(self.env, "dispute_opened")), 1)

    def test_refund_share_above_threshold_once_per_month(self):
        invoice = self._invoice(100.0)
        pay_ref = f"demo_pay_{invoice.id}"
        self._send(self._demo_payment(invoice, 10000))
        refund = self._demo_obj_event
        self._send(refund("refund.succeeded", "demo_re_1", pay_ref, 1500, invoice))
        self.assertFalse(_alerts(self.env, "refund_share"))  # 15 % <= 20 %
        self._send(refund("refund.succeeded", "demo_re_2", pay_ref, 1000, invoice))
        alert = _alerts(self.env, "refund_share")
        self.assertEqual(len(alert), 1)
        self.assertIn("Refunds reached 25%", alert.message)
        self._send(refund("refund.succeeded", "demo_re_3", pay_ref, 500, invoice))
        self.assertEqual(len(_alerts(self.env, "refund_share")), 1)

    def test_gateway_view_totals_and_profile(self):
        invoice = self._invoice(100.0)
        other = self._invoice(50.0)
        self._send(self._failed(invoice, 1))
        self._send(self._demo_payment(invoice, 10000))
        self._send(self._demo_payment(other, 5000))
        rows = self.env["paycrm.gateway.analysis"].search(
            [("gateway_id", "=", self.demo_gateway.id)]
        )
        events = self.env["paycrm.event"].search(
            [("gateway_id", "=", self.demo_gateway.id), ("state", "=", "done")]
        )
        self.assertEqual(len(rows), len(events))
        self.assertAlmostEqual(sum(rows.mapped("fee_amount")), 1.75 + 1.0)
        self.assertAlmostEqual(
            sum(rows.mapped("fee_amount")), sum(events.mapped("fee_amount"))
        )
        self.assertAlmostEqual(sum(rows.mapped("amount")), 150.0)
        [(rate,)] = self.env["paycrm.gateway.analysis"]._read_group(
            [("gateway_id", "=", self.demo_gateway.id)],
            aggregates=["success_rate:avg"],
        )
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertEqual(self.customer.paycrm_failed_attempts_30d, 1)
        self.assertEqual(self.customer.paycrm_preferred_gateway_id, self.demo_gateway)
