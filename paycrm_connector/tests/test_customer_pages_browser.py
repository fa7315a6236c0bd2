"""Issue 14 in headless Chromium: the admin copies the link from the wizard and a
customer, not logged in, pays with it; a customer pays from the portal invoice
page, which offers exactly one pay button."""

import re

from odoo.tests import tagged

from .link_common import PaycrmLinkCase


@tagged("post_install", "-at_install")
class TestCustomerBrowserFlows(PaycrmLinkCase):
    def _wait(self, browser, expression, what):
        self.assertTrue(browser._wait_ready(expression, 60), what)

    def _pay_on_demo_page(self, browser):
        self._wait(
            browser,
            "!!document.querySelector('.o_paycrm_demo_pay')",
            "the demo checkout page opens",
        )
        self._evaluate(browser, "document.querySelector('.o_paycrm_demo_pay').click()")
        self._wait(
            browser,
            "location.pathname.endsWith('/done') && "
            "!!document.querySelector('.o_paycrm_title')",
            "the thank-you page follows",
        )
        return self._evaluate(
            browser, "document.querySelector('.o_paycrm_title').textContent"
        ).strip()

    def test_admin_copies_link_and_a_fresh_session_pays_with_it(self):
        admin = self._make_user(
            "paycrm_browser_admin",
            [
                "base.group_user",
                "account.group_account_manager",
                "paycrm_connector.group_paycrm_manager",
            ],
        )
        admin.password = "paycrm_browser_admin"
        invoice = self._invoice(77.0)
        expected = self.env["paycrm.link.url"]._paycrm_pay_url(invoice)
        browser, stop = self._browser(login="paycrm_browser_admin")
        browser.navigate_to(
            f"{self.base_url()}/odoo/action-account.action_move_out_invoice_type/"
            f"{invoice.id}",
            wait_stop=True,
        )
        send = "document.querySelector('button[name=action_paycrm_send_link]')"
        self._wait(browser, f"!!{send}", "the invoice form offers Send Payment Link")
        self._evaluate(browser, f"{send}.click()")
        copy = "document.querySelector('.modal input[type=radio][data-value=copy]')"
        self._wait(browser, f"!!{copy}", "the wizard opens")
        self._evaluate(browser, f"{copy}.click()")
        shown = "document.querySelector('.modal [name=link_url]')"
        self._wait(
            browser,
            f"!!{shown} && {shown}.innerText.includes('/paycrm/pay/')",
            "the wizard shows the link to copy",
        )
        text = self._evaluate(browser, f"{shown}.innerText")
        stop()
        copied = re.search(r"https?://\S+", text).group(0)
        self.assertNotIn("NewId", copied)
        self.assertEqual(copied, expected)

        # A customer's browser: no session, only the copied URL.
        customer, stop = self._browser()
        customer.navigate_to(copied, wait_stop=True)
        self.assertEqual(self._pay_on_demo_page(customer), "Thank you")
        stop()
        self.env["paycrm.event"]._paycrm_process_batch()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_customer_pays_from_portal_page_with_one_button(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", True
        )
        invoice = self._invoice(33.0)
        portal_url = f"{self.base_url()}{invoice.get_portal_url()}"
        browser, stop = self._browser()
        browser.navigate_to(portal_url, wait_stop=True)
        button = "document.querySelector('a.o_paycrm_portal_pay')"
        self._wait(browser, f"!!{button}", "the portal page shows our pay button")
        pay_buttons = self._evaluate(
            browser,
            "[...document.querySelectorAll('a.btn, button.btn')]"
            ".filter(b => b.offsetParent !== null && /\\bPay\\b/i.test(b.innerText))"
            ".length",
        )
        self.assertEqual(pay_buttons, 1, "exactly one visible pay button")
        self.assertEqual(
            self._evaluate(
                browser,
                "document.querySelectorAll('a[data-bs-target=\"#pay_with\"]').length",
            ),
            0,
        )
        self._evaluate(browser, f"{button}.click()")
        self.assertEqual(self._pay_on_demo_page(browser), "Thank you")
        stop()
        self.env["paycrm.event"]._paycrm_process_batch()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
