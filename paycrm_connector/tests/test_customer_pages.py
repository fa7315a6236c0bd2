"""What customers and staff see around the stable link (issue 14): the link the
wizard shows is the one that works, one pay button on the portal, links for
invoices posted without a gateway, pages with the invoice on them, a receipt,
branded error pages and true SMS feedback. Through real HTTP where a customer
would go."""

import re

from odoo.tests import Form, tagged
from odoo.tools import mute_logger
from odoo.tools.misc import file_open

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .link_common import PaycrmLinkCase
from .test_security_links import DemoPageMixin


class CustomerPagesCase(DemoPageMixin, PaycrmLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's own portal payment switched on: its Pay Now is what we replace.
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", True
        )

    def _wizard_form(self, invoices):
        return Form(
            self.env["paycrm.link.wizard"].with_context(
                active_model="account.move", active_ids=invoices.ids
            )
        )

    def _pay_on_demo_page(self, invoice, url=None):
        path, csrf = self._demo_page(invoice, url=url)
        response = self._submit(path, csrf)
        self.assertEqual(response.status_code, 303)
        self.env["paycrm.event"]._paycrm_process_batch()
        return self.url_open(response.headers["Location"])


@tagged("post_install", "-at_install")
class TestWizardStableUrl(CustomerPagesCase):
    """Item 1: the wizard shows the invoice's stable URL, never a NewId one."""

    def test_copied_url_is_the_stable_url_and_works(self):
        invoice = self._invoice(120.0)
        form = self._wizard_form(invoice)
        form.channel = "copy"
        url = form.link_url
        self.assertNotIn("NewId", url)
        self.assertEqual(url, self.env["paycrm.link.url"]._paycrm_pay_url(invoice))
        self.assertEqual(url, invoice.paycrm_link_url)
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/paycrm/demo/checkout/", response.headers["Location"])

    def test_deposit_url_carries_a_valid_signature(self):
        invoice = self._invoice(120.0)
        form = self._wizard_form(invoice)
        form.amount = 20.0
        self.assertNotIn("NewId", form.link_url)
        page = self._pay_on_demo_page(invoice, url=form.link_url)
        self.assertEqual(page.status_code, 200)
        self.assertEqual(invoice.amount_residual, 100.0)

    def test_mass_wizard_lists_one_stable_url_per_payable_invoice(self):
        invoices = self._invoice(10.0) | self._invoice(20.0)
        draft = self._invoice(5.0, post=False)
        form = self._wizard_form(invoices | draft)
        form.channel = "copy"
        self.assertFalse(form.link_url)
        lines = form.link_list.splitlines()
        self.assertEqual(
            lines,
            [
                f"{inv.name}  {self.env['paycrm.link.url']._paycrm_pay_url(inv)}"
                for inv in invoices
            ],
        )
        for invoice in invoices:
            self.assertEqual(
                self._click(invoice).status_code, 303, "each listed URL works"
            )


@tagged("post_install", "-at_install")
class TestPortalOnePayButton(CustomerPagesCase):
    """Item 2: ours where our gateway serves the invoice, Odoo's otherwise."""

    ODOO_PAY_NOW = 'data-bs-target="#pay_with"'

    def test_portal_invoice_page_has_exactly_our_button(self):
        invoice = self._invoice(80.0)
        page = self.url_open(invoice.get_portal_url())
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count("o_paycrm_portal_pay"), 1)
        self.assertNotIn(self.ODOO_PAY_NOW, page.text)
        self.assertIn(self.env["paycrm.link.url"]._paycrm_pay_url(invoice), page.text)
        # An old "Pay Now" link of Odoo's must not open its payment dialog.
        old = self.url_open(invoice.get_portal_url(query_string="&payment=True"))
        self.assertNotIn('data-payment="True"', old.text)

    def test_odoo_button_untouched_without_our_gateway(self):
        invoice = self._invoice(80.0)
        (self.demo_gateway | self.stripe_gateway).state = "disabled"
        page = self.url_open(invoice.get_portal_url())
        self.assertNotIn("o_paycrm_portal_pay", page.text)
        self.assertEqual(page.text.count(self.ODOO_PAY_NOW), 1)

    def test_my_invoices_rows_carry_our_pay_now(self):
        portal = self._make_user("paycrm_portal_ada", ["base.group_portal"])
        portal.partner_id = self.customer
        portal.password = "paycrm_portal_ada"
        ours = self._invoice(30.0)
        ours.invoice_date_due = "2000-01-01"
        self.authenticate("paycrm_portal_ada", "paycrm_portal_ada")
        page = self.url_open("/my/invoices")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count("o_paycrm_list_pay"), 1)
        self.assertIn(self.env["paycrm.link.url"]._paycrm_pay_url(ours), page.text)
        self.assertNotIn("payment=True", page.text)
        # Every overdue invoice is ours: no "Pay overdue" dead end.
        self.assertNotIn('href="/my/invoices/overdue"', page.text)


@tagged("post_install", "-at_install")
class TestLinksWhenGatewayArrives(CustomerPagesCase):
    """Item 3: invoices posted with no gateway get their link later."""

    def test_enabling_a_gateway_gives_old_invoices_their_link(self):
        (self.demo_gateway | self.stripe_gateway).state = "disabled"
        invoice = self._invoice(70.0)
        # As before installation: no token, no gateway.
        invoice.write({"access_token": False, "paycrm_gateway_id": False})
        self.assertEqual(invoice.paycrm_link_state, "none")
        self.assertFalse(invoice._paycrm_is_payable())
        self.demo_gateway.state = "test"
        self.assertTrue(invoice.access_token)
        self.assertEqual(invoice.paycrm_gateway_id, self.demo_gateway)
        self.assertEqual(invoice.paycrm_link_state, "active")
        self.assertEqual(self._click(invoice).status_code, 303)

    def test_new_gateway_and_on_demand_action(self):
        company = self.setup_other_company(name="Late Gateway Co")["company"]
        self.env.user.company_ids |= company
        invoice = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            amounts=[40.0],
            company=company,
            post=True,
        )
        invoice.write({"access_token": False})
        self.assertEqual(invoice.paycrm_link_state, "none")
        self.env["paycrm.gateway"].create(
            {"name": "Late Demo", "provider": "demo", "company_id": company.id}
        )
        self.assertTrue(invoice.access_token)
        self.assertEqual(invoice.paycrm_link_state, "active")
        # On demand (Action menu) after a token was lost.
        invoice.write({"access_token": False})
        self.assertEqual(invoice.paycrm_link_state, "none")
        action = self.env.ref("paycrm_connector.action_paycrm_give_links")
        result = action.with_context(
            active_model="account.move", active_ids=invoice.ids
        ).run()
        self.assertIn("1 of 1", result["params"]["message"])
        self.assertEqual(invoice.paycrm_link_state, "active")
        # The gateway's action says it in the same sentence, for the open
        # invoices of its company.
        invoice.write({"access_token": False})
        gateway = self.env["paycrm.gateway"].search([("name", "=", "Late Demo")])
        result = gateway.action_paycrm_give_links()
        self.assertIn("1 of 1", result["params"]["message"])
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(invoice.paycrm_link_state, "active")


@tagged("post_install", "-at_install")
class TestCustomerPageContent(MockEmail, CustomerPagesCase):
    """Item 5: the pages show whom the customer pays for what, and keep
    their promise of a receipt."""

    def _assert_invoice_shown(self, invoice, text, pdf=True):
        self.assertIn(invoice.name, text)
        self.assertIn("o_paycrm_due_date", text)
        self.assertIn("o_paycrm_amount_due", text)
        title = re.search(r"<title>([^<]*)</title>", text).group(1)
        self.assertIn(invoice.company_id.name, title)
        if not pdf:
            return
        pdf = re.search(r'href="([^"]*report_type=pdf[^"]*)"', text).group(1)
        self.assertIn("download=true", pdf.lower())
        self.assertIn(f"access_token={invoice.access_token}", pdf)

    def test_broken_receipt_template_never_holds_a_payment_back(self):
        template = self.env.ref("paycrm_connector.mail_template_paycrm_payment_receipt")
        template.body_html = '<p t-out="object.no_such_field.oops"/>'
        invoice = self._invoice(80.0)
        with (
            self.mock_mail_gateway(),
            mute_logger(
                "odoo.addons.paycrm_connector.models.paycrm_event_receipt",
                "odoo.addons.mail.models.mail_render_mixin",
            ),
        ):
            self._pay_on_demo_page(invoice)
            self.assertEqual(invoice.payment_state, "paid")
            self.env["paycrm.event"]._cron_paycrm_send_receipts()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(
            self.env["paycrm.event"].search_count([("receipt_pending", "=", True)])
        )
        self.assertIn(
            "receipt could not be emailed", invoice.message_ids[:1].body or ""
        )

    def test_demo_page_thank_you_and_receipt(self):
        # Receipts are signed by the company: it needs an address.
        self.company.email = "billing@example.com"
        invoice = self._invoice(150.0)
        path, _csrf = self._demo_page(invoice)
        demo = self.url_open(path)
        # The gateway's page (as Stripe's): the invoice, no portal links.
        self._assert_invoice_shown(invoice, demo.text, pdf=False)
        self.assertIn("o_paycrm_demo_decline", demo.text)
        self.assertNotIn("btn-outline-danger", demo.text)
        with self.mock_mail_gateway():
            done = self._pay_on_demo_page(invoice)
            # Booked first; the receipt follows from its own job.
            event = self.env["paycrm.event"].search(
                [("invoice_id", "=", invoice.id), ("move_id", "!=", False)]
            )
            self.assertTrue(event.receipt_pending)
            self.env["paycrm.event"]._cron_paycrm_send_receipts()
            self.assertFalse(event.receipt_pending)
        self.assertEqual(done.status_code, 200)
        self._assert_invoice_shown(invoice, done.text)
        receipts = self._new_mails.filtered(
            lambda m: "payment received" in (m.subject or "")
        )
        self.assertEqual(len(receipts), 1, invoice.message_ids.mapped("body"))
        self.assertEqual(receipts.recipient_ids, self.customer)
        self.assertIn(invoice.name, receipts.body_html)
        self.assertIn("150.00", receipts.body_html)

    def test_choice_page_shows_amount(self):
        self._setup_paypal_gateway()
        invoice = self._invoice(64.0)
        page = self.url_open(self._path(invoice))
        self.assertIn("o_paycrm_choice_paypal", page.text)
        self.assertIn("64.00", page.text)
        self._assert_invoice_shown(invoice, page.text)

    def test_view_invoice_is_the_real_invoice(self):
        invoice = self._invoice(90.0)
        self.assertFalse(invoice.invoice_pdf_report_id)
        html = self.url_open(invoice.get_portal_url(report_type="html"))
        self.assertEqual(html.status_code, 200)
        self.assertIn(invoice.name, html.text)
        self.assertNotIn("PROFORMA", html.text)
        page = self.url_open(invoice.get_portal_url())
        self.assertNotIn("OdooBot", page.text)


@tagged("post_install", "-at_install")
class TestBrandedErrors(CustomerPagesCase):
    """Item 6: a wrong token is a branded 404, a withdrawn link a 410."""

    def test_wrong_token_and_withdrawn_link(self):
        invoice = self._invoice(50.0)
        wrong = self.url_open(f"/paycrm/pay/{invoice.id}/not-the-token")
        self.assertEqual(wrong.status_code, 404)
        self.assertIn("Link not found", wrong.text)
        # Our layout; no invoice is named to someone without its token.
        self.assertIn("o_paycrm_company", wrong.text)
        self.assertIn("o_paycrm_link_page", wrong.text)
        self.assertNotIn(invoice.name, wrong.text)
        unknown = self.url_open("/paycrm/demo/checkout/demo_cs_nope")
        self.assertEqual(unknown.status_code, 404)
        self.assertIn("o_paycrm_link_page", unknown.text)
        invoice.button_draft()
        gone = self._click(invoice)
        self.assertEqual(gone.status_code, 410)
        self.assertIn("Link no longer valid", gone.text)


@tagged("post_install", "-at_install")
class TestSmsFeedback(SMSCase, CustomerPagesCase):
    """Item 8: one true message; no phone-library text."""

    def _send(self, invoices, channel="sms"):
        form = self._wizard_form(invoices)
        form.channel = channel
        return form.save().action_send()["params"]

    def test_invalid_mobile_nothing_sent_one_clear_message(self):
        partner = self.env["res.partner"].create(
            {"name": "Bad Mobile", "mobile": "12345", "country_id": self.ref("base.uk")}
        )
        invoice = self._invoice(30.0, partner=partner)
        with self.mockSMSGateway():
            params = self._send(invoice)
        self.assertFalse(self._sms)
        self.assertEqual(params["type"], "danger")
        self.assertTrue(params["message"].startswith("No payment link was sent."))
        self.assertNotIn("sent for", params["message"])
        self.assertIn(invoice.name, params["message"])
        self.assertIn("12345 is not a valid phone number", params["message"])
        for raw in ("did not seem", "Unable to parse", "(1)"):
            self.assertNotIn(raw, params["message"])
            self.assertNotIn(raw, partner.paycrm_phone_warning)

    def test_mixed_batch_counts_what_was_sent(self):
        nobody = self.env["res.partner"].create({"name": "No Mobile"})
        good = self._invoice(10.0)
        skipped = self._invoice(11.0, partner=nobody)
        with self.mockSMSGateway():
            params = self._send(good | skipped)
        self.assertEqual(len(self._sms), 1)
        self.assertEqual(params["type"], "warning")
        self.assertIn("sent for 1 of 2 invoice(s)", params["message"])
        self.assertIn(f"{skipped.name}: SMS skipped", params["message"])
        self.assertIn("has no mobile number", params["message"])

    def test_demo_customers_have_valid_mobiles(self):
        # Demo data is not loaded in tests: read the file the demo loads.
        with file_open("paycrm_connector/demo/paycrm_demo.xml") as demo:
            mobiles = re.findall(r'<field name="mobile">([^<]*)</field>', demo.read())
        self.assertTrue(mobiles)
        partner = self.env["res.partner"]
        countries = {
            "+32": "be",
            "06": "fr",
            "+49": "de",
            "(415)": "us",
            "090": "jp",
            "+44": "uk",
            "+31": "nl",
            "+34": "es",
        }
        for mobile in mobiles:
            code = next(c for p, c in countries.items() if mobile.startswith(p))
            country = self.env.ref(f"base.{code}")
            self.assertTrue(
                partner._phone_format(number=mobile, country=country), mobile
            )
