"""Wizards stay inside their invoice and their company (issue 12, items 6-7)."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .webhook_common import WebhookCommon

MANAGER = "paycrm_connector.group_paycrm_manager"
INVOICE = "account.group_account_invoice"
# Odoo logs a warning for each refused access: expected here.
MUTED = ("odoo.models", "odoo.addons.base.models.ir_rule")


class WizardCommon(WebhookCommon):
    def _pay(self, invoice, minor, ref):
        """Store a demo payment through the intake and book it."""
        return self._store(self._demo_payment(invoice, minor, ref=ref))

    def _store(self, event, process=True):
        payload = self.demo_gateway._paycrm_adapter().payload(event)
        stored, _created = self.events._paycrm_store(self.demo_gateway, payload, event)
        if process:
            self._process()
        return stored

    def _refund_event(self, payment, minor, ref, invoice):
        return self._demo_obj_event(
            "refund.succeeded", ref, payment.payment_ref, minor, invoice
        )

    def _refund_wizard(self, invoice, payment, amount):
        return (
            self.env["paycrm.refund"]
            .with_context(default_invoice_id=invoice.id)
            .create({"payment_event_id": payment.id, "amount": amount})
        )


@tagged("post_install", "-at_install")
class TestRefundWizard(WizardCommon):
    def test_payment_of_another_invoice_refused(self):
        invoice_a = self._invoice(100.0)
        invoice_b = self._invoice(5.0)
        self._pay(invoice_a, 10000, "demo_pay_a")
        pay_b = self._pay(invoice_b, 500, "demo_pay_b")
        events = self.events.search_count([])
        wizard = self._refund_wizard(invoice_a, pay_b, 100.0)
        self.assertEqual(wizard.refundable, 0.0)
        with self.assertRaisesRegex(UserError, "not a gateway payment reconciled"):
            wizard.action_paycrm_refund()
        self.assertEqual(self.events.search_count([]), events)
        self.assertAlmostEqual(invoice_b.paycrm_amount_received, 5.0)

    def test_refund_capped_by_what_the_payment_holds(self):
        invoice = self._invoice(100.0)
        first = self._pay(invoice, 6000, "demo_pay_1")
        second = self._pay(invoice, 4000, "demo_pay_2")
        wizard = self._refund_wizard(invoice, second, 50.0)
        self.assertEqual(wizard.refundable, 40.0)
        with self.assertRaisesRegex(UserError, "holds 40.0 USD"):
            wizard.action_paycrm_refund()
        self.assertEqual(
            self._refund_wizard(invoice, first, 60.0).refundable, 60.0, "own total"
        )

    def test_dashboard_refunds_count_booked_or_waiting(self):
        invoice = self._invoice(100.0)
        payment = self._pay(invoice, 10000, "demo_pay_1")
        # A refund made in the gateway's dashboard, booked...
        self._store(self._refund_event(payment, 5000, "demo_re_dash1", invoice))
        self.assertAlmostEqual(invoice.paycrm_amount_received, 50.0)
        # ...and one stored but not processed yet.
        self._store(
            self._refund_event(payment, 3000, "demo_re_dash2", invoice), process=False
        )
        wizard = self._refund_wizard(invoice, payment, 30.0)
        self.assertAlmostEqual(wizard.refundable, 20.0)
        events = self.events.search_count([])
        with self.assertRaisesRegex(UserError, "holds 20.0 USD"):
            wizard.action_paycrm_refund()
        self.assertEqual(self.events.search_count([]), events)
        wizard.amount = 20.0
        wizard.action_paycrm_refund()
        self._process()
        self.assertAlmostEqual(invoice.paycrm_amount_received, 0.0)
        self.assertEqual(
            self._refund_wizard(invoice, payment, 1.0).refundable, 0.0, "all refunded"
        )

    def test_default_payment_is_the_invoice_own(self):
        invoice = self._invoice(100.0)
        self._pay(self._invoice(50.0), 5000, "demo_pay_other")
        payment = self._pay(invoice, 10000, "demo_pay_own")
        wizard = (
            self.env["paycrm.refund"]
            .with_context(default_invoice_id=invoice.id)
            .create({})
        )
        self.assertEqual(wizard.payment_event_id, payment)
        self.assertEqual(wizard.amount, 100.0)


@tagged("post_install", "-at_install")
class TestWizardsStayInCompany(WizardCommon):
    """Company 2's connector administrator against company 1's records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.admin_b = cls._make_user(
            "paycrm_admin_b2",
            ["base.group_user", MANAGER, INVOICE],
            company=cls.company_b,
        )
        cls.admin_a = cls._make_user(
            "paycrm_admin_a2", ["base.group_user", MANAGER, INVOICE]
        )
        cls.policy = cls.env["paycrm.reminder.policy"].create(
            {"name": "Company 1 policy", "company_id": cls.company.id}
        )

    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(100.0)
        self.payment = self._pay(self.invoice, 10000, "demo_pay_c1")
        self.as_b = self.env(user=self.admin_b)
        self.moves = self.env["account.move"].search_count([])
        self.event_count = self.events.search_count([])

    def _invoice_b(self):
        invoice = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            amounts=[100.0],
            company=self.company_b,
            post=True,
        )
        self.moves += 1
        return invoice

    def assertNothingBooked(self):
        self.env.invalidate_all()
        self.assertEqual(self.env["account.move"].search_count([]), self.moves)
        self.assertEqual(self.events.search_count([]), self.event_count)

    @mute_logger(*MUTED)
    def test_match_wizard_returns_nothing_of_company_1(self):
        event = self._store(self._demo_payment(self.invoice, 4200, ref="p_x", db="x"))
        self.assertEqual(event.state, "unmatched")
        self.event_count += 1
        invoice_b = self._invoice_b()
        match_model = self.as_b["paycrm.event.match"]
        with self.assertRaises(AccessError):
            match_model.create({"event_id": event.id, "invoice_id": invoice_b.id})
        # The form's first onchange computes the amount: nothing comes back.
        with self.assertRaises(AccessError):
            match_model.new({"event_id": event.id}).read(["amount", "currency_id"])
        # A wizard company 1 made is not readable by company 2 either.
        wizard = (
            self.env["paycrm.event.match"]
            .with_user(self.admin_a)
            .create({"event_id": event.id, "invoice_id": self.invoice.id})
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.admin_b).read(["amount", "currency_id"])
        with self.assertRaises(AccessError):
            wizard.with_user(self.admin_b).action_paycrm_match()
        self.assertEqual(event.state, "unmatched")
        self.assertNothingBooked()

    @mute_logger(*MUTED)
    def test_tieout_refuses_company_1_gateway(self):
        with self.assertRaises(AccessError):
            self.stripe_gateway.with_user(self.admin_b).action_paycrm_tieout()
        with self.assertRaises(AccessError):
            self.as_b["paycrm.tieout"].create({"gateway_id": self.stripe_gateway.id})
        self.assertFalse(self.standin.calls())
        # The tie-out company 1 made (balances inside) stays company 1's.
        tieout = self.stripe_gateway.with_user(self.admin_a).action_paycrm_tieout()
        wizard = self.as_b["paycrm.tieout"].browse(tieout["res_id"])
        with self.assertRaises(AccessError):
            wizard.read(["clearing_balance", "gateway_balance"])
        self.assertFalse(self.as_b["paycrm.tieout"].search([]))

    @mute_logger(*MUTED)
    def test_refund_wizard_refuses_company_1_payment(self):
        wizard_model = self.as_b["paycrm.refund"]
        with self.assertRaises(AccessError):
            wizard_model.create(
                {
                    "invoice_id": self.invoice.id,
                    "payment_event_id": self.payment.id,
                    "amount": 10.0,
                }
            )
        # Its own invoice with company 1's payment: refused as well.
        invoice_b = self._invoice_b()
        with self.assertRaises(UserError):  # AccessError or company mismatch
            wizard_model.create(
                {
                    "invoice_id": invoice_b.id,
                    "payment_event_id": self.payment.id,
                    "amount": 10.0,
                }
            )
        self.assertAlmostEqual(self.invoice.paycrm_amount_received, 100.0)
        self.assertNothingBooked()

    @mute_logger(*MUTED)
    def test_link_wizard_refuses_company_1_invoice(self):
        invoice = self._invoice(80.0)
        self.moves += 1
        messages = len(invoice.message_ids)
        with self.assertRaises(AccessError):
            self.as_b["paycrm.link.wizard"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"channel": "email"}).action_send()
        self.env.invalidate_all()
        self.assertEqual(len(invoice.message_ids), messages)

    @mute_logger(*MUTED)
    def test_promise_wizard_refuses_company_1_invoice(self):
        invoice = self._invoice(80.0)
        self.moves += 1
        with self.assertRaises(AccessError):
            self.as_b["paycrm.promise.wizard"].create(
                {
                    "partner_id": self.customer.id,
                    "invoice_ids": [(6, 0, invoice.ids)],
                    "promise_date": "2099-01-01",
                }
            ).action_confirm()
        self.assertFalse(invoice.paycrm_promise_date)

    @mute_logger(*MUTED)
    def test_reminder_preview_refuses_company_1_policy(self):
        with self.assertRaises(AccessError):
            self.policy.with_user(self.admin_b).action_paycrm_preview()
        with self.assertRaises(AccessError):
            self.as_b["paycrm.reminder.preview"].create({"policy_id": self.policy.id})
        with self.assertRaises(AccessError):
            self.policy.with_user(self.admin_b).action_paycrm_run_now()
        self.assertFalse(self.env["paycrm.reminder.log"].search([]))

    @mute_logger(*MUTED)
    def test_gateway_and_event_actions_refuse_company_1(self):
        with self.assertRaises(AccessError):
            self.stripe_gateway.with_user(self.admin_b).action_paycrm_test_connection()
        self.assertFalse(self.standin.calls())
        self.assertEqual(self.stripe_gateway.connection_state, "unknown")
        with self.assertRaises(AccessError):
            self.payment.with_user(self.admin_b).action_paycrm_reprocess()
        with self.assertRaises(AccessError):
            self.invoice.with_user(self.admin_b).action_paycrm_send_reminder_now()
        self.assertNothingBooked()

    @mute_logger(*MUTED, "odoo.addons.base.models.ir_actions")
    def test_server_actions_refuse_company_1_invoices(self):
        messages = len(self.invoice.message_ids)
        for xmlid in (
            "action_paycrm_send_link_email",
            "action_paycrm_send_link_sms",
            "action_paycrm_create_link",
            "action_paycrm_send_reminder_now",
        ):
            action = self.env.ref(f"paycrm_connector.{xmlid}").with_user(self.admin_b)
            with self.subTest(xmlid), self.assertRaises(AccessError):
                action.with_context(
                    active_model="account.move",
                    active_id=self.invoice.id,
                    active_ids=self.invoice.ids,
                ).run()
        self.env.invalidate_all()
        self.assertEqual(len(self.invoice.message_ids), messages)
        self.assertFalse(self.invoice.paycrm_link_ids)
        self.assertNothingBooked()
