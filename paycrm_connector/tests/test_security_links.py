"""The outside never steers the payment link (DESIGN.md §4, promise 8).

A forged Host header changes no URL the addon hands out; the demo checkout
calls no address at all; a checkout session is paid at most once, never on a
disabled gateway or after it expired; public routes write a bounded amount;
junk parameters get a 4xx page, never a 500.
"""

import re
from unittest.mock import patch
from urllib.parse import quote, urlencode, urlsplit

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from .link_common import PaycrmLinkCase
from .paypal_common import PaypalFlowCase
from .webhook_common import WebhookCommon

EVIL = "evil.example"
FORGED = {"Host": EVIL}
PORTAL_LOGGER = "odoo.addons.paycrm_connector.controllers.portal"
RETURN_LOGGER = "odoo.addons.paycrm_connector.controllers.pay_choice"


class DemoPageMixin:
    def _demo_page(self, invoice, headers=None, url=None):
        """Click the stable URL (or ``url``, e.g. a deposit's), open the demo
        page: ``(path, csrf token)``."""
        response = self.url_open(
            url or self._path(invoice), headers=headers, allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        path = self._location_path(response)
        page = self.url_open(path, headers=headers)
        self.assertEqual(page.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return path, csrf

    def _submit(self, path, csrf, outcome="pay", headers=None, **more):
        return self.url_open(
            f"{path}/submit",
            data={"csrf_token": csrf, "outcome": outcome, "method": "card", **more},
            headers=headers,
            allow_redirects=False,
        )


@tagged("post_install", "-at_install")
class TestForgedHost(DemoPageMixin, PaypalFlowCase):
    """Every URL handed out comes from web.base.url, whatever the Host says."""

    def assertClean(self, text):
        self.assertNotIn(EVIL, text or "")

    def test_demo_session_and_redirect_ignore_host(self):
        invoice = self._invoice(80.0)
        choice = self.url_open(self._path(invoice), headers=FORGED)
        self.assertEqual(choice.status_code, 200)
        self.assertIn("o_paycrm_choice_demo", choice.text)
        self.assertClean(choice.text)
        response = self.url_open(
            f"{self._path(invoice)}?gateway={self.demo_gateway.id}",
            headers=FORGED,
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertTrue(location.startswith(f"{self.base_url()}/paycrm/demo/"))
        link = invoice.paycrm_link_ids
        self.assertEqual(link.url, location)
        # The customer's genuine click reuses that session: still our host.
        genuine = self.url_open(
            f"{self._path(invoice)}?gateway={self.demo_gateway.id}",
            allow_redirects=False,
        )
        self.assertEqual(genuine.headers["Location"], location)

    def test_stripe_return_urls_ignore_host(self):
        invoice = self._stripe_invoice(100.0)
        response = self.url_open(
            f"{self._path(invoice)}?gateway={self.stripe_gateway.id}",
            headers=FORGED,
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        [create] = self._session_requests()
        self.assertClean(create.body.decode())
        self.assertEqual(
            create.params["success_url"],
            f"{self.base_url()}{self._path(invoice, '/done')}"
            "?session_id={CHECKOUT_SESSION_ID}",
        )
        self.assertEqual(
            create.params["cancel_url"],
            f"{self.base_url()}{self._path(invoice, '/cancel')}",
        )

    def test_paypal_return_urls_ignore_host(self):
        invoice = self._pp_invoice(50.0)
        response = self.url_open(
            f"{self._path(invoice)}?gateway={self.paypal_gateway.id}",
            headers=FORGED,
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        create = self.paypal_standin.last("POST", "/v2/checkout/orders")
        self.assertClean(create.body.decode())
        context = create.json["payment_source"]["paypal"]["experience_context"]
        self.assertEqual(
            context["return_url"], f"{self.base_url()}{self._path(invoice, '/done')}"
        )

    @mute_logger(PORTAL_LOGGER, RETURN_LOGGER)
    def test_pages_and_retry_links_ignore_host(self):
        invoice = self._invoice(80.0)
        pages = {
            "cancel": self.url_open(self._path(invoice, "/cancel"), headers=FORGED),
            "portal": self.url_open(invoice.get_portal_url(), headers=FORGED),
            "unknown order": self.url_open(
                f"{self._path(invoice, '/done')}?token=NOSUCHORDER", headers=FORGED
            ),
        }
        card = self._stripe_invoice(60.0)
        self.standin.fail_next(500, path_prefix="/v1/checkout/sessions")
        pages["gateway down"] = self.url_open(
            f"{self._path(card)}?gateway={self.stripe_gateway.id}", headers=FORGED
        )
        self.assertEqual(pages["gateway down"].status_code, 503)
        self.assertIn(
            f"{self._path(card)}?gateway={self.stripe_gateway.id}",
            pages["gateway down"].text,
        )
        self.assertIn("o_paycrm_portal_pay", pages["portal"].text)
        for name, page in pages.items():
            with self.subTest(page=name):
                hrefs = re.findall(r'href="([^"]*paycrm/pay[^"]*)"', page.text)
                self.assertTrue(hrefs)
                for href in hrefs:
                    self.assertTrue(href.startswith(self.base_url()), href)

    def test_emailed_and_shown_urls_come_from_config(self):
        self.env["ir.config_parameter"].set_param(
            "web.base.url", "https://pay.example.com"
        )
        self.env.invalidate_all()
        invoice = self._invoice(80.0)
        self.assertEqual(
            invoice.paycrm_link_url,
            f"https://pay.example.com{self._path(invoice)}",
        )
        self.assertEqual(
            self.env["paycrm.link.url"]._paycrm_pay_url(invoice),
            invoice.paycrm_link_url,
        )
        self.assertEqual(
            self.demo_gateway.webhook_url,
            f"https://pay.example.com/paycrm/webhook/{self.demo_gateway.id}",
        )


@tagged("post_install", "-at_install")
class TestDemoCheckoutSingleUse(DemoPageMixin, PaycrmLinkCase, WebhookCommon):
    def _outbound_guard(self):
        """Fail on any HTTP request other than this test's own to the server.

        The edge of the outside world: ``requests`` itself (our code only ever
        calls out through it). The test client's own requests pass through.
        """
        send = requests.Session.send
        own = self.base_url()
        outbound = []

        def guarded(session, prepared, **kwargs):
            if not prepared.url.startswith(own) or "/paycrm/webhook/" in prepared.url:
                outbound.append(prepared.url)
                raise AssertionError(f"outbound HTTP call to {prepared.url}")
            return send(session, prepared, **kwargs)

        patcher = patch.object(requests.Session, "send", guarded)
        patcher.start()
        self.addCleanup(patcher.stop)
        return outbound

    def _payment_moves(self):
        return self.env["account.move"].search(
            [("journal_id", "=", self.demo_gateway.journal_id.id)]
        )

    def test_pay_stores_event_in_process_without_http(self):
        invoice = self._invoice(120.0)
        path, csrf = self._demo_page(invoice, headers=FORGED)
        outbound = self._outbound_guard()
        response = self._submit(path, csrf, headers=FORGED)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(
            response.headers["Location"],
            f"{self.base_url()}{self._path(invoice, '/done')}",
        )
        # Stored by the submit request itself, before it answered.
        link = invoice.paycrm_link_ids
        event = self._event(f"evt_demo_pay_{link.session_ref}")
        self.assertEqual((event.kind, event.state), ("payment_succeeded", "received"))
        self.assertEqual(link.state, "submitted")
        self.assertFalse(outbound)
        self._process()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.payment_ref, f"demo_pay_{link.session_ref}")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(link.state, "paid")

    def test_three_submits_book_one_payment(self):
        invoice = self._invoice(720.0)
        path, csrf = self._demo_page(invoice)
        answers = [self._submit(path, csrf) for _i in range(3)]
        self.assertEqual([a.status_code for a in answers], [303, 409, 409])
        for answer in answers[1:]:
            self.assertIn("already been paid", answer.text)
            self.assertNotIn("Traceback", answer.text)
        payments = self.events.search([("kind", "=", "payment_succeeded")])
        self.assertEqual(len(payments), 1)
        self._process()
        self.assertEqual(payments.state, "done", payments.last_error)
        self.assertEqual(len(self._payment_moves()), 1)
        self.assertEqual(invoice.paycrm_amount_received, 720.0)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        # The page itself now says so, and a later submit still books nothing.
        page = self.url_open(path)
        self.assertEqual(page.status_code, 409)
        self.assertIn("already been paid", page.text)
        self.assertEqual(self._submit(path, csrf).status_code, 409)
        self.assertEqual(
            len(self.events.search([("kind", "=", "payment_succeeded")])), 1
        )

    def test_replayed_payment_collapses_in_event_store(self):
        """Had a second submit got past the claim, its event is the same one."""
        invoice = self._invoice(60.0)
        path, csrf = self._demo_page(invoice)
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        link = invoice.paycrm_link_ids
        link.state = "open"
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        self.assertEqual(
            len(self.events.search([("kind", "=", "payment_succeeded")])), 1
        )

    def test_declined_cards_then_payment_on_one_session(self):
        invoice = self._invoice(90.0)
        path, csrf = self._demo_page(invoice)
        for _try in range(2):
            declined = self._submit(path, csrf, outcome="decline")
            self.assertEqual(declined.status_code, 200)
            self.assertIn("declined", declined.text)
        link = invoice.paycrm_link_ids
        self.assertEqual((link.state, link.capture_tries), ("open", 2))
        failed = self.events.search([("kind", "=", "payment_failed")])
        self.assertEqual(
            sorted(failed.mapped("external_id")),
            [f"evt_demo_pay_{link.session_ref}_{n}" for n in (1, 2)],
        )
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        self._process()
        self.assertEqual(invoice.paycrm_amount_received, 90.0)
        self.assertEqual(len(self._payment_moves()), 1)

    def test_disabled_gateway_session_takes_no_payment(self):
        invoice = self._invoice(80.0)
        path, csrf = self._demo_page(invoice)
        self.demo_gateway.state = "disabled"
        page = self.url_open(path)
        self.assertEqual(page.status_code, 409)
        self.assertIn("no longer takes payments", page.text)
        answer = self._submit(path, csrf)
        self.assertEqual(answer.status_code, 409)
        self.assertIn("no longer takes payments", answer.text)
        self.assertFalse(self.events.search([]))
        self.assertEqual(invoice.paycrm_link_ids.state, "closing")

    def test_disabling_gateway_closes_its_sessions(self):
        invoice = self._stripe_invoice(75.0)
        self.assertEqual(self._click(invoice).status_code, 303)
        link = invoice.paycrm_link_ids
        self.stripe_gateway.state = "disabled"
        self.assertEqual(link.state, "closing")
        self.env["paycrm.link"]._cron_paycrm_expire_links()
        self.assertEqual(link.state, "expired")
        self.assertTrue(
            self.standin.last("POST", f"/v1/checkout/sessions/{link.session_ref}")
        )

    def test_paid_but_not_yet_booked_is_not_asked_again(self):
        invoice = self._invoice(100.0)
        path, csrf = self._demo_page(invoice)
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        # Before the processor books it, the customer clicks the link again.
        again = self._click(invoice)
        self.assertEqual(again.status_code, 200)
        self.assertIn("being confirmed", again.text)
        self.assertEqual(len(invoice.paycrm_link_ids), 1)
        self._process()
        self.assertIn("is paid", self._click(invoice).text)

    def test_deposit_in_flight_lowers_the_next_amount(self):
        invoice = self._invoice(100.0)
        path, csrf = self._demo_page(
            invoice,
            url=self.env["paycrm.link.url"]._paycrm_pay_url(invoice, amount=40.0),
        )
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        # The 40.00 is paid but not booked: the link asks for the other 60.00.
        self.assertEqual(self._click(invoice).status_code, 303)
        fresh = invoice.paycrm_link_ids.filtered(lambda link: link.state == "open")
        self.assertEqual(fresh.amount, 60.0)

    def test_deposit_link_pays_once(self):
        invoice = self._invoice(100.0)
        url = self.env["paycrm.link.url"]._paycrm_pay_url(invoice, amount=40.0)
        split = urlsplit(url)
        deposit_path = f"{split.path}?{split.query}"
        path, csrf = self._demo_page(invoice, url=url)
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        # Opened again, in flight or booked: never a second 40.00 checkout.
        for _round in range(2):
            again = self._click(invoice, path=deposit_path)
            self.assertEqual(again.status_code, 303)
            self.assertEqual(self._location_path(again), self._path(invoice))
            self._process()
        self.assertEqual(len(invoice.paycrm_link_ids), 1)
        self.assertAlmostEqual(invoice.amount_residual, 60.0)
        # The stable link asks for the rest.
        self.assertEqual(self._click(invoice).status_code, 303)
        rest = invoice.paycrm_link_ids.filtered(lambda link: link.state == "open")
        self.assertEqual(rest.amount, 60.0)

    def test_return_page_without_a_payment_thanks_nobody(self):
        invoice = self._invoice(100.0)
        done = self._click(invoice, "/done")
        self.assertEqual(done.status_code, 303)
        self.assertEqual(self._location_path(done), self._path(invoice))

    def test_invoice_posted_before_any_gateway_is_payable(self):
        """An invoice posted before the first gateway existed names none: its
        link uses the company's default gateway, it is not a dead end."""
        invoice = self._invoice(45.0)
        self.env.cr.execute(
            "UPDATE account_move SET paycrm_gateway_id = NULL WHERE id = %s",
            [invoice.id],
        )
        invoice.invalidate_recordset(["paycrm_gateway_id"])
        self.assertFalse(invoice.paycrm_gateway_id)
        path, csrf = self._demo_page(invoice)
        self.assertEqual(self._submit(path, csrf).status_code, 303)
        self._process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_session_of_invoice_settled_elsewhere_takes_no_payment(self):
        """Paid by hand, credited in full, partly paid, reset to draft: the
        open session asks for money no longer due and takes none."""

        def pay_by_hand(invoice, amount=None):
            register = self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            )
            register.create({"amount": amount} if amount else {})._create_payments()

        def credit_in_full(invoice):
            invoice._reverse_moves(cancel=True)

        cases = {
            "paid by hand": pay_by_hand,
            "credited": credit_in_full,
            "partly paid": lambda inv: pay_by_hand(inv, 10.0),
            "reset to draft": lambda inv: inv.button_draft(),
        }
        for name, change in cases.items():
            with self.subTest(name):
                invoice = self._invoice(50.0)
                path, csrf = self._demo_page(invoice)
                change(invoice)
                for answer in (self.url_open(path), self._submit(path, csrf)):
                    # "already paid" (409) or "expired, open your link again"
                    # (410), as the session was closed or not yet.
                    self.assertIn(answer.status_code, (409, 410))
                    self.assertRegex(answer.text, "already been paid|has expired")
                self.assertFalse(
                    self.events.search([("invoice_id", "=", invoice.id)])
                    or self.events.search([("object_ref", "like", "demo_pay_")])
                )
        # Settled invoices' sessions are closed when the transaction commits.
        self.env.cr.precommit.run()
        links = self.env["paycrm.link"].search([("amount", "=", 50.0)])
        self.assertLessEqual(set(links.mapped("state")), {"closing", "expired"})

    def test_expired_session_takes_no_payment(self):
        invoice = self._invoice(80.0)
        path, csrf = self._demo_page(invoice)
        invoice.paycrm_link_ids.expires_at = "2000-01-01 00:00:00"
        for answer in (self.url_open(path), self._submit(path, csrf)):
            self.assertEqual(answer.status_code, 410)
            self.assertIn("has expired", answer.text)
            self.assertIn(f"{self.base_url()}{self._path(invoice)}", answer.text)
        self.assertFalse(self.events.search([]))
        # A superseded session (queued for expiry) is no more payable.
        fresh = self._invoice(30.0)
        path, csrf = self._demo_page(fresh)
        fresh.paycrm_link_ids._paycrm_schedule_expiry()
        self.assertEqual(self._submit(path, csrf).status_code, 410)
        self.assertFalse(self.events.search([]))


@tagged("post_install", "-at_install")
class TestBoundedWrites(PaypalFlowCase):
    """A public route writes a bounded amount, whatever a visitor repeats."""

    def _notes(self, invoice, text):
        return invoice.message_ids.filtered(lambda m: text in (m.body or ""))

    @mute_logger(PORTAL_LOGGER)
    def test_failed_paypal_clicks_note_once(self):
        self.paypal_gateway.secret_key = "rotated_elsewhere"
        invoice = self._pp_invoice(50.0)
        for _click in range(5):
            response = self._pp_click(invoice)
            self.assertEqual(response.status_code, 503)
            self.assertIn("not available for this invoice", response.text)
        notes = self._notes(invoice, "could not open the payment page")
        self.assertEqual(len(notes), 1)
        self.assertIn("authentication failed", notes.body)
        self.assertEqual(invoice.paycrm_link_failure_count, 5)
        # An hour later the next failure is noted again, with the count.
        self.env.cr.execute(
            "UPDATE account_move SET paycrm_link_failure_noted = "
            "paycrm_link_failure_noted - interval '61 minutes' WHERE id = %s",
            [invoice.id],
        )
        self.env.invalidate_all()
        self.assertEqual(self._pp_click(invoice).status_code, 503)
        notes = self._notes(invoice, "could not open the payment page")
        self.assertEqual(len(notes), 2)
        self.assertIn("so far: 6", notes[0].body)

    def test_gateway_switching_is_capped(self):
        invoice = self._pp_invoice(40.0)
        quota = const.LINK_MAX_NEW_SESSIONS_PER_HOUR
        gateways = [self.demo_gateway, self.paypal_gateway]
        statuses = []
        for n in range(quota + 2):
            gateway = gateways[n % 2]
            response = self._click(
                invoice, path=f"{self._path(invoice)}?gateway={gateway.id}"
            )
            statuses.append(response.status_code)
        self.env.invalidate_all()
        # Past the cap no new session opens; the last open one is still reused.
        self.assertEqual(statuses, [303] * quota + [429, 303])
        self.assertEqual(len(invoice.paycrm_link_ids), quota)
        self.assertLessEqual(len(self._notes(invoice, "Checkout opened for")), quota)
        page = self._click(
            invoice, path=f"{self._path(invoice)}?gateway={self.demo_gateway.id}"
        )
        self.assertEqual(page.status_code, 429)
        self.assertIn("Too many attempts", page.text)

    def test_paypal_return_reload_writes_once(self):
        invoice = self._pp_invoice(70.0)
        self._pp_pay(invoice)
        order_id = invoice.paycrm_link_ids.session_ref
        for _reload in range(3):
            self.assertEqual(self._pp_return(invoice, order_id).status_code, 303)
        self.assertEqual(len(self.paypal_standin.captures), 1)
        self.assertEqual(invoice.paycrm_link_ids.state, "submitted")
        self.assertEqual(len(self._notes(invoice, "booked when the gateway")), 1)
        captures = self.paypal_standin.calls("POST", "/v2/checkout/orders/")
        self.assertEqual(len([c for c in captures if c.path.endswith("/capture")]), 1)


@tagged("post_install", "-at_install")
class TestPaypalReturnRefused(PaypalFlowCase):
    """An approved order is not captured once its session takes no payment."""

    def _approved(self, amount):
        invoice = self._pp_invoice(amount)
        self.assertEqual(self._pp_click(invoice).status_code, 303)
        order_id = invoice.paycrm_link_ids.session_ref
        self.paypal_standin.approve_order(order_id)
        return invoice, order_id

    def test_disabled_gateway_captures_nothing(self):
        invoice, order_id = self._approved(55.0)
        self.paypal_gateway.state = "disabled"
        back = self._pp_return(invoice, order_id)
        self.assertEqual(back.status_code, 200)
        self.assertIn("nothing was charged", back.text)
        self.assertIn(f'href="{self.base_url()}{self._path(invoice)}"', back.text)
        self.assertFalse(self.paypal_standin.captures)

    def test_superseded_session_captures_nothing(self):
        invoice, order_id = self._approved(65.0)
        invoice.paycrm_link_ids._paycrm_schedule_expiry()
        self.assertEqual(self._pp_return(invoice, order_id).status_code, 200)
        self.assertFalse(self.paypal_standin.captures)


@tagged("post_install", "-at_install")
class TestJunkParameters(DemoPageMixin, PaycrmLinkCase):
    """Junk in any public route's parameters: a 4xx page, never a 500."""

    def test_pay_url_junk(self):
        invoice = self._invoice(80.0)
        other = self._invoice(20.0)
        base = self._path(invoice)
        other_path, _csrf = self._demo_page(other)
        other_ref = other_path.rsplit("/", 1)[1]
        cases = {
            f"{base}?amount=abc&sig=x": 404,
            f"{base}?amount={quote('²')}&sig=x": 404,
            f"{base}?amount={'9' * 5000}&sig=x": 404,
            f"{base}?amount=100&sig={quote('é')}": 404,
            f"{base}?gateway=999999": 404,
            f"{base}?gateway=abc": 404,
            f"/paycrm/pay/{invoice.id}/{quote('é')}": 404,
            f"/paycrm/pay/99999999999/{invoice.access_token}": 404,
            "/paycrm/pay/99999999999/x/done": 404,
            f"{base}/done?token=%00": 404,
            f"{base}/done?token={other_ref}": 404,
            f"{base}/cancel?x=%00": 200,
            "/paycrm/demo/checkout/%00": 404,
            f"/paycrm/demo/checkout/{'x' * 300}": 404,
        }
        for path, status in cases.items():
            with self.subTest(path=path[:80]):
                response = self._click(invoice, path=path)
                self.assertEqual(response.status_code, status)
                self.assertNotIn("Traceback", response.text)
        self.assertFalse(invoice.paycrm_link_ids)

    @mute_logger("odoo.http")
    def test_demo_submit_junk(self):
        invoice = self._invoice(80.0)
        path, csrf = self._demo_page(invoice)
        for data in (
            {"outcome": "refund"},
            {"method": "cash"},
            {"card_country": "ÉÉ"},
            {"card_country": "1X"},
        ):
            with self.subTest(**data):
                response = self._submit(path, csrf, **data)
                self.assertEqual(response.status_code, 400)
                self.assertIn("two-letter", response.text)
        self.assertFalse(self.env["paycrm.event"].search([]))
        self.assertEqual(invoice.paycrm_link_ids.state, "open")


# Any text, NUL bytes and non-ASCII included; hypothesis leaves out surrogates.
JUNK = st.text(max_size=40)
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # Shrinking replays examples through HTTP: report the first failure as found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@tagged("post_install", "-at_install")
class TestPublicRoutesProperty(DemoPageMixin, PaycrmLinkCase):
    """Arbitrary parameters on the pay and demo routes: never a 5xx, and at
    most the one payment a genuine Pay submit makes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.init_invoice(
            "out_invoice", partner=cls.customer, amounts=[80.0], post=True
        )

    def _example(self, check):
        savepoint = self.env.cr.savepoint(flush=False)
        try:
            check()
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    def assertAnswered(self, response):
        self.assertLess(response.status_code, 500, response.text[:500])
        self.assertNotIn("Traceback", response.text)

    @PROPERTY_SETTINGS
    @given(
        params=st.dictionaries(
            st.sampled_from(["amount", "sig", "gateway", "token", "PayerID", "x"]),
            JUNK,
            max_size=4,
        ),
        token=st.one_of(st.none(), JUNK.filter(bool)),
        suffix=st.sampled_from(["", "/done", "/cancel"]),
    )
    def test_pay_routes_answer_any_parameters(self, params, token, suffix):
        def check():
            invoice = self.invoice
            path = (
                self._path(invoice, suffix)
                if token is None
                else f"/paycrm/pay/{invoice.id}/{quote(token, safe='')}{suffix}"
            )
            response = self.url_open(
                f"{path}?{urlencode(params)}", allow_redirects=False
            )
            self.assertAnswered(response)
            self.assertFalse(self.env["paycrm.event"].search([]))

        self._example(check)

    @PROPERTY_SETTINGS
    @given(
        form=st.fixed_dictionaries(
            {},
            optional={
                "outcome": st.one_of(st.sampled_from(["pay", "decline"]), JUNK),
                "method": st.one_of(st.sampled_from(["card", "paypal"]), JUNK),
                "card_country": JUNK,
                "x": JUNK,
            },
        ),
        session=st.one_of(st.none(), JUNK.filter(bool)),
        repeat=st.integers(1, 3),
    )
    def test_demo_routes_answer_any_form(self, form, session, repeat):
        def check():
            path, csrf = self._demo_page(self.invoice)
            if session is not None:
                path = f"/paycrm/demo/checkout/{quote(session, safe='')}"
                self.assertAnswered(self.url_open(path))
            for _submit in range(repeat):
                response = self.url_open(
                    f"{path}/submit",
                    data={"csrf_token": csrf, **form},
                    allow_redirects=False,
                )
                self.assertAnswered(response)
            paid = self.env["paycrm.event"].search([("kind", "=", "payment_succeeded")])
            self.assertLessEqual(len(paid), 1)
            self.assertFalse(
                self.env["account.move"].search(
                    [("journal_id", "=", self.demo_gateway.journal_id.id)]
                )
            )

        self._example(check)
