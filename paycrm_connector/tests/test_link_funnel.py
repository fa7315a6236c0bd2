"""The payment link funnel: sent -> opened -> paid, counted where it happens
(link wizard, invoice emails, reminders; clicks on the stable URL; payments),
and the SQL view's totals against the same counts made with the ORM."""

import re

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .link_common import PaycrmLinkCase
from .reminder_common import ReminderCommon


def _funnel_totals(env, domain=()):
    [row] = env["paycrm.link.funnel.analysis"]._read_group(
        list(domain),
        aggregates=[
            "sent_count:sum",
            "send_count:sum",
            "opened_count:sum",
            "paid_count:sum",
            "paid_online_count:sum",
            "open_rate:avg",
            "paid_rate:avg",
            "opened_paid_rate:avg",
        ],
    )
    return row


@tagged("post_install", "-at_install")
class TestLinkFunnel(PaycrmLinkCase, MockEmail):
    def _send(self, invoices, channel="email"):
        with self.mock_mail_gateway():
            self.env["paycrm.link.wizard"].with_context(
                active_model="account.move", active_ids=invoices.ids
            ).create({"channel": channel}).action_send()

    def _pay_on_demo_page(self, invoice):
        response = self._click(invoice)
        self.assertEqual(response.status_code, 303)
        path = self._location_path(response)
        page = self.url_open(path)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            f"{path}/submit",
            data={"csrf_token": csrf, "outcome": "pay", "method": "card"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.env["paycrm.event"]._paycrm_process_batch(force=True)

    def test_sent_opened_paid_through_http(self):
        paid_online = self._invoice(120.0)
        unopened = self._invoice(80.0)
        emailed = self._invoice(60.0)
        never_sent = self._invoice(40.0)
        self._send(paid_online | unopened)
        self._send(paid_online)
        self.assertEqual(paid_online.paycrm_link_sent_count, 2)
        self.assertEqual(unopened.paycrm_link_sent_count, 1)
        self.assertTrue(unopened.paycrm_link_first_sent)
        # An invoice email to the customer carries "Pay online" too; an
        # internal note does not reach the customer.
        with self.mock_mail_gateway():
            emailed.message_post(
                body="Your invoice",
                partner_ids=self.customer.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            never_sent.message_post(body="Internal", subtype_xmlid="mail.mt_note")
        self.assertEqual(emailed.paycrm_link_sent_count, 1)
        self.assertFalse(never_sent.paycrm_link_sent_count)
        self.assertFalse(never_sent.paycrm_link_first_sent)

        # Clicks: the customer opens two links and pays one on the hosted page.
        self.assertEqual(self._click(emailed).status_code, 303)
        self.assertTrue(emailed.paycrm_link_first_opened)
        first_opened = emailed.paycrm_link_first_opened
        self.assertEqual(self._click(emailed).status_code, 303)
        self.assertEqual(emailed.paycrm_link_first_opened, first_opened)
        self._pay_on_demo_page(paid_online)
        self.assertIn(paid_online.payment_state, ("paid", "in_payment"))
        self.assertEqual(paid_online.paycrm_link_ids.state, "paid")
        self.assertFalse(unopened.paycrm_link_first_opened)
        # Paid by bank transfer after opening the link: paid, not online.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=emailed.ids
        ).create({})._create_payments()
        self.env.flush_all()  # the view reads the tables

        sent, sends, opened, paid, online, open_rate, paid_rate, conv = _funnel_totals(
            self.env
        )
        self.assertEqual((sent, sends, opened, paid, online), (3, 4, 2, 2, 1))
        self.assertAlmostEqual(open_rate, 200 / 3)
        self.assertAlmostEqual(paid_rate, 200 / 3)
        self.assertAlmostEqual(conv, 100.0)
        # The same counts through the ORM.
        moves = self.env["account.move"].search(
            [("move_type", "=", "out_invoice"), ("paycrm_link_first_sent", "!=", False)]
        )
        self.assertEqual(moves, paid_online | unopened | emailed)
        self.assertEqual(sends, sum(moves.mapped("paycrm_link_sent_count")))
        self.assertEqual(
            opened, len(moves.filtered(lambda m: m.paycrm_link_first_opened))
        )
        self.assertEqual(
            paid,
            len(moves.filtered(lambda m: m.payment_state in ("paid", "in_payment"))),
        )
        self.assertEqual(
            online,
            len(moves.filtered(lambda m: "paid" in m.paycrm_link_ids.mapped("state"))),
        )
        # By month and gateway, as the pivot shows it.
        rows = self.env["paycrm.link.funnel.analysis"]._read_group(
            [], ["sent_date:month", "gateway_id"], ["sent_count:sum", "paid_count:sum"]
        )
        self.assertEqual(len(rows), 1)
        _month, gateway, count, paid_count = rows[0]
        self.assertEqual((gateway, count, paid_count), (self.demo_gateway, 3, 2))

    def test_gateway_choice_page_counts_as_opened(self):
        self._setup_paypal_gateway()
        invoice = self._invoice(50.0)
        self._send(invoice)
        response = self._click(invoice)
        self.assertEqual(response.status_code, 200)
        self.assertIn("How would you like to pay?", response.text)
        self.assertTrue(invoice.paycrm_link_first_opened)
        self.assertFalse(invoice.paycrm_link_ids)
        self.assertEqual(_funnel_totals(self.env)[2], 1)


@tagged("post_install", "-at_install")
class TestReminderLinkSends(ReminderCommon):
    def test_reminders_with_the_link_count_as_sends(self):
        linked = self._invoice_due("2025-03-03")
        self.stages[0].include_pay_link = False
        bob = self.env["res.partner"].create({"name": "Bob", "email": "b@example.com"})
        unlinked = self._invoice_due("2025-03-10", partner=bob)
        self._run("2025-03-10")
        self.assertEqual(linked.paycrm_link_sent_count, 1)
        self.assertEqual(
            linked.paycrm_link_first_sent,
            fields.Datetime.to_datetime("2025-03-10 12:00:00"),
        )
        self.assertTrue(self._logs(unlinked))
        self.assertFalse(unlinked.paycrm_link_sent_count)
        with freeze_time("2025-03-17 12:00:00"):
            self.policy._paycrm_run()
        self.assertEqual(linked.paycrm_link_sent_count, 2)
        self.assertEqual(
            linked.paycrm_link_first_sent,
            fields.Datetime.to_datetime("2025-03-10 12:00:00"),
        )
