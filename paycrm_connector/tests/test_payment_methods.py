"""Saved payment methods (issue 17): saving through the pay link, the setup
link from the contact, the demo gateway's pages, removal from the portal, the
Payment pending flag of bank debits, and expiring cards."""

import json
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from odoo.tests import tagged

from ..gateways import DemoAdapter, SavedMethod
from .link_common import PaycrmLinkCase
from .webhook_common import WebhookCommon

CARD_NUMBER = "4242424242424242"


@tagged("post_install", "-at_install")
class TestPaymentMethods(WebhookCommon, PaycrmLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.methods = cls.env["paycrm.payment.method"].with_context(active_test=False)

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _csrf(page):
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _deliver_stripe(self, *event_types):
        """Post the stand-in's recorded events of ``event_types`` to the
        webhook, signed, and process them."""
        events = self.standin.events_of(*event_types)
        self.assertTrue(events, f"no {event_types} recorded by the stand-in")
        for event in events:
            self.assertEqual(self._post_stripe(event).status_code, 200)
        self._process()
        return events

    def _assert_no_card_number(self):
        stored = self.methods.search_read([], [])
        self.assertNotIn(CARD_NUMBER, json.dumps(stored, default=str))

    def _demo_method(self, partner=None, ref="pm_demo_1", **values):
        saved = SavedMethod(
            method_ref=ref,
            customer_ref="demo_cus_1",
            brand="visa",
            last4="4242",
            exp_month=values.pop("exp_month", 12),
            exp_year=values.pop("exp_year", date.today().year + 3),
        )
        return self.methods._paycrm_upsert_from_gateway(
            self.demo_gateway, partner or self.customer, saved, "consent"
        )

    # -- saving through the pay link -------------------------------------------

    def test_pay_link_saves_card_when_ticked(self):
        self.stripe_gateway.offer_save_method = True
        invoice = self._stripe_invoice(80.0, currency=self.eur)
        page = self._click(invoice)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Save this card/account for future invoices", page.text)
        self.assertIn("to charge it for my future invoices", page.text)
        self.assertFalse(self._session_requests(), "no checkout before the answer")
        response = self.url_open(
            self._path(invoice, "/checkout"),
            data={"csrf_token": self._csrf(page), "save_method": "1"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        params = self._session_requests()[0].params
        self.assertEqual(
            params["payment_intent_data"]["setup_future_usage"], "off_session"
        )
        self.assertTrue(params["customer"].startswith("cus_"))
        link = invoice.paycrm_link_ids
        self.assertTrue(link.save_method)
        self.assertEqual(response.headers["Location"], link.url)
        self.standin.complete_session(link.session_ref)
        self._deliver_stripe("checkout.session.completed")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        method = self.methods.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(method), 1)
        self.assertEqual(method.gateway_id, self.stripe_gateway)
        self.assertTrue(method.method_ref.startswith("pm_"))
        self.assertEqual(method.last4, "4242")
        self.assertEqual(method.customer_ref, params["customer"])
        self.assertIn("future invoices", method.consent_text)
        self._assert_no_card_number()

    def test_pay_link_without_tick_saves_nothing(self):
        self.stripe_gateway.offer_save_method = True
        invoice = self._stripe_invoice(30.0, currency=self.eur)
        page = self._click(invoice)
        response = self.url_open(
            self._path(invoice, "/checkout"),
            data={"csrf_token": self._csrf(page)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        params = self._session_requests()[0].params
        self.assertNotIn("setup_future_usage", params.get("payment_intent_data", {}))
        # Without the CSRF token nothing is opened.
        refused = self.url_open(
            self._path(invoice, "/checkout"), data={"save_method": "1"}
        )
        self.assertEqual(refused.status_code, 400)

    def test_no_offer_unless_gateway_offers(self):
        invoice = self._stripe_invoice(30.0, currency=self.eur)
        self.assertEqual(self._click(invoice).status_code, 303)

    # -- setup link from the contact --------------------------------------------

    def test_setup_link_from_contact_stripe(self):
        self.env.company.paycrm_gateway_id = self.stripe_gateway
        action = self.customer.action_paycrm_save_method()
        self.assertEqual(action["res_model"], "mail.compose.message")
        setup = self.env["paycrm.method.setup"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(setup.gateway_id, self.stripe_gateway)
        self.assertIn(setup.url, action["context"]["default_body"])
        created = [
            r
            for r in self.standin.requests
            if r.method == "POST" and r.path == "/v1/checkout/sessions"
        ]
        self.assertEqual(created[0].params["mode"], "setup")
        self.standin.complete_setup_session(setup.session_ref, method="pm_card_visa")
        self._deliver_stripe("checkout.session.completed", "setup_intent.succeeded")
        method = self.methods.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(method), 1, "two events, one method")
        self.assertEqual(method.method_ref, "pm_card_visa")
        self.assertEqual(setup.state, "done")
        self._assert_no_card_number()

    def test_save_button_needs_invoicing_rights(self):
        salesman = self._make_internal_user(
            "paycrm_m17_sales", "paycrm_connector.group_paycrm_user"
        )
        with self.assertRaises(Exception):  # noqa: B017 - AccessError
            self.customer.with_user(salesman).action_paycrm_save_method()

    # -- demo gateway's pages ---------------------------------------------------

    def test_demo_pay_page_saves_card(self):
        invoice = self._invoice(120.0)
        response = self._click(invoice)
        path = self._location_path(response)
        page = self.url_open(path)
        self.assertIn("Save this card/account for future invoices", page.text)
        submit = self.url_open(
            f"{path}/submit",
            data={"csrf_token": self._csrf(page), "outcome": "pay", "save_method": "1"},
            allow_redirects=False,
        )
        self.assertEqual(submit.status_code, 303)
        self._process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        method = self.methods.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(method), 1)
        self.assertRegex(method.method_ref, r"^pm_demo_")
        self.assertEqual((method.brand, method.last4), ("visa", "4242"))
        self.assertIn("Visa •••• 4242", method.display_name)

    def test_demo_setup_page_from_contact(self):
        self.env.company.paycrm_gateway_id = self.demo_gateway
        self.customer.action_paycrm_save_method()
        setup = self.env["paycrm.method.setup"].search(
            [("partner_id", "=", self.customer.id)]
        )
        path = urlsplit(setup.url).path
        self.assertRegex(path, r"^/paycrm/demo/setup/demo_setup_")
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_paycrm_demo_save", page.text)
        done = self.url_open(
            f"{path}/submit",
            data={"csrf_token": self._csrf(page), "method": "sepa_debit"},
            allow_redirects=False,
        )
        self.assertEqual(done.status_code, 303)
        self.assertEqual(
            urlsplit(done.headers["Location"]).path, "/paycrm/method/saved"
        )
        self._process()
        method = self.methods.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(method.method_type, "sepa_debit")
        self.assertTrue(method.mandate_ref)
        self.assertIn("debit your account", method.consent_text)
        self.assertEqual(setup.state, "done")
        self.assertEqual(setup.method_id, method)
        again = self.url_open(
            f"{path}/submit",
            data={"csrf_token": self._csrf(page), "method": "card"},
        )
        self.assertEqual(again.status_code, 409)
        self.assertEqual(self.url_open("/paycrm/demo/setup/nope").status_code, 404)

    # -- portal -----------------------------------------------------------------

    def test_portal_lists_and_removes_own_methods_only(self):
        other = self.env["res.partner"].create({"name": "Other Customer"})
        mine = self._demo_method()
        theirs = self._demo_method(partner=other, ref="pm_demo_2")
        portal = self._make_user("paycrm_m17_portal", ["base.group_portal"])
        portal.partner_id = self.customer
        portal.password = "paycrm_m17_portal"
        self.authenticate("paycrm_m17_portal", "paycrm_m17_portal")
        page = self.url_open("/my/payment_methods")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Visa •••• 4242", page.text)
        self.assertIn(f'data-method-id="{mine.id}"', page.text)
        self.assertNotIn(f'data-method-id="{theirs.id}"', page.text)
        csrf = self._csrf(page)
        refused = self.url_open(
            f"/my/payment_methods/{theirs.id}/remove", data={"csrf_token": csrf}
        )
        self.assertEqual(refused.status_code, 404)
        no_csrf = self.url_open(f"/my/payment_methods/{mine.id}/remove", data={})
        # Refused without the CSRF token (Odoo answers 400 or 405).
        self.assertIn(no_csrf.status_code, (400, 405))
        self.assertTrue(mine.active)
        removed = self.url_open(
            f"/my/payment_methods/{mine.id}/remove",
            data={"csrf_token": csrf},
            allow_redirects=False,
        )
        self.assertEqual(removed.status_code, 303)
        self.env.invalidate_all()
        self.assertFalse(mine.active)
        self.assertTrue(theirs.active)
        home = self.url_open("/my/payment_methods?removed=1")
        self.assertIn("o_paycrm_method_removed", home.text)
        self.assertNotIn(f'data-method-id="{mine.id}"', home.text)

    def test_archive_detaches_at_stripe(self):
        saved = SavedMethod(method_ref="pm_card_visa", brand="visa", last4="4242")
        method = self.methods._paycrm_upsert_from_gateway(
            self.stripe_gateway, self.customer, saved, "consent"
        )
        method.action_archive()
        self.assertFalse(method.active)
        self.assertTrue(
            [
                r
                for r in self.standin.requests
                if r.method == "POST"
                and r.path == "/v1/payment_methods/pm_card_visa/detach"
            ]
        )

    def test_method_removed_event_archives(self):
        method = self._demo_method(ref="pm_demo_gone")
        adapter = self.demo_gateway._paycrm_adapter()
        payload, headers = adapter.method_webhook(
            SavedMethod(method_ref="pm_demo_gone"), removed=True
        )
        self.env["paycrm.event"]._paycrm_intake(self.demo_gateway, payload, headers)
        self._process()
        self.assertFalse(method.active)

    # -- payment pending --------------------------------------------------------

    def _demo_debit_event(self, invoice, event_type, status):
        obj = {
            "id": f"demo_pay_debit_{invoice.id}",
            "object": "payment",
            "amount": 10000,
            "currency": invoice.currency_id.name.lower(),
            "fee": 0,
            "status": status,
            "metadata": self._meta(invoice),
            "payment_method_details": {"type": "sepa_debit"},
        }
        if status == "failed":
            obj["decline_code"] = "insufficient_funds"
        event = DemoAdapter.build_event(event_type, obj)
        self.assertEqual(self._post_demo(event).status_code, 200)
        self._process()
        self.env.invalidate_all()

    def _skip(self, invoice):
        planner = self.env["paycrm.reminder.planner"]
        policy = self.env.company.paycrm_reminder_policy_id or self.env[
            "paycrm.reminder.policy"
        ].search([], limit=1)
        return planner._paycrm_skip_reason(invoice, date.today(), policy)

    def test_pending_set_then_cleared_by_payment(self):
        invoice = self._invoice(100.0)
        self._demo_debit_event(invoice, "payment.processing", "processing")
        self.assertTrue(invoice._paycrm_is_payment_pending())
        self.assertEqual(invoice.paycrm_pending_amount, 100.0)
        self.assertEqual(invoice.paycrm_pending_method, "sepa_debit")
        self.assertGreaterEqual(
            (
                invoice.paycrm_pending_expected - invoice.paycrm_pending_since.date()
            ).days,
            5,
        )
        self.assertEqual(
            self._skip(invoice), "Payment pending (direct debit in progress)"
        )
        self._demo_debit_event(invoice, "payment.succeeded", "succeeded")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(invoice._paycrm_is_payment_pending())

    def test_pending_debit_keeps_the_link_from_a_second_payment(self):
        invoice = self._invoice(100.0)
        self._demo_debit_event(invoice, "payment.processing", "processing")
        # The customer opens the pay link while the debit runs: no second
        # checkout for the same money.
        page = self._click(invoice)
        self.assertEqual(page.status_code, 200)
        self.assertIn("being confirmed", page.text)
        self.assertFalse(self.env["paycrm.link"].search([("move_id", "=", invoice.id)]))
        # The debit failed: the link asks again.
        self._demo_debit_event(invoice, "payment.failed", "failed")
        self.assertEqual(self._click(invoice).status_code, 303)

    def test_pending_failed_raises_alert(self):
        invoice = self._invoice(100.0)
        self._demo_debit_event(invoice, "payment.processing", "processing")
        self.assertTrue(invoice._paycrm_is_payment_pending())
        self._demo_debit_event(invoice, "payment.failed", "failed")
        self.assertFalse(invoice._paycrm_is_payment_pending())
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self._skip(invoice))
        alert = self.env["paycrm.alert"].search(
            [("kind", "=", "debit_failed"), ("invoice_id", "=", invoice.id)]
        )
        self.assertEqual(len(alert), 1)
        self.assertIn("insufficient_funds", alert.message)

    def test_processing_after_success_sets_nothing(self):
        invoice = self._invoice(100.0)
        self._demo_debit_event(invoice, "payment.succeeded", "succeeded")
        self._demo_debit_event(invoice, "payment.processing", "processing")
        self.assertFalse(invoice._paycrm_is_payment_pending())

    # -- method health ----------------------------------------------------------

    def test_expiring_alert_once(self):
        soon = date.today() + timedelta(days=10)
        method = self._demo_method(exp_month=soon.month, exp_year=soon.year)
        fine = self._demo_method(ref="pm_demo_fine")
        self.assertTrue(method.is_expiring)
        self.assertFalse(fine.is_expiring)
        self.assertEqual(self.methods.search([("is_expiring", "=", True)]), method)
        model = self.env["paycrm.payment.method"]
        model._cron_paycrm_check_expiring()
        model._cron_paycrm_check_expiring()
        alerts = self.env["paycrm.alert"].search([("kind", "=", "method_expiring")])
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts.partner_id, self.customer)
        activities = self.customer.activity_ids.filtered(
            lambda a: a.summary == "Payment method expiring"
        )
        self.assertEqual(len(activities), 1)
        self.assertEqual(self.customer.paycrm_method_expiring_count, 1)
