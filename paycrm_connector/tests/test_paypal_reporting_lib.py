"""PayPal's Transaction Search and balances through the adapter, against the
stand-in, without the ORM: the rows the Tie-out compares (issue 21, item 4)."""

import time
from unittest.mock import patch
from urllib.parse import parse_qsl

from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.paycrm_connector.gateways import GatewayAuthError, paypal_reporting

from .test_paypal_lib import PaypalStandinCase, adapter_for, checkout

SEARCH = "/v1/reporting/transactions"


def paid_order(server, adapter, amount_minor):
    """A new order (its own request ids), approved and captured."""
    key = server.new_id("KEY")
    session = adapter.create_checkout(checkout(amount_minor, key=key))
    server.approve_order(session.session_id)
    return adapter.capture_order(session.session_id, f"capture-{key}")


def _query(request):
    return dict(parse_qsl(request.query))


@tagged("post_install", "-at_install")
class TestPaypalReportingLib(PaypalStandinCase):
    def test_rows_of_captures_refunds_reversals_and_holds(self):
        standin = self.standin
        adapter = adapter_for(standin)
        kept = paid_order(standin, adapter, 10000)  # fee 3.98
        refunded = paid_order(standin, adapter, 5000)  # fee 2.24
        reversed_ = paid_order(standin, adapter, 2000)  # fee 1.19
        held = paid_order(standin, adapter, 3000)  # fee 1.54
        refund = adapter.refund_capture(refunded.capture_id, 2000, "EUR", "r1")
        reversal = adapter.refund_capture(reversed_.capture_id, 2000, "EUR", "r2")
        standin.reversals.add(reversal.refund_id)
        standin.dispute_hold(held.capture_id)
        standin.next_capture_status = "PENDING"
        paid_order(standin, adapter, 700)  # pending: not in the balance

        rows = adapter.balance_transactions("EUR", since=int(time.time()) - 3600)
        by_type = {}
        for row in rows:
            self.assertEqual(
                set(row), {"id", "type", "source", "amount", "fee", "net", "created"}
            )
            self.assertEqual(row["net"], row["amount"] - row["fee"])
            by_type.setdefault(row["type"], []).append(row)
        payments = {row["source"]: row for row in by_type["payment"]}
        self.assertEqual(
            set(payments),
            {
                kept.capture_id,
                refunded.capture_id,
                reversed_.capture_id,
                held.capture_id,
            },
        )
        self.assertEqual(payments[kept.capture_id]["amount"], 10000)
        self.assertEqual(payments[kept.capture_id]["fee"], 398)
        self.assertEqual(payments[kept.capture_id]["net"], 9602)
        # A refund by its own id; PayPal hands back 3.49 % of 20.00.
        (refund_row,) = by_type["refund"]
        self.assertEqual(
            (refund_row["source"], refund_row["amount"], refund_row["fee"]),
            (refund.refund_id, -2000, -70),
        )
        self.assertEqual(refund_row["net"], -1930)
        (reversal_row,) = by_type["reversal"]
        self.assertEqual(
            (reversal_row["source"], reversal_row["amount"]),
            (reversal.refund_id, -2000),
        )
        # A hold names no dispute: it is matched by the capture it holds.
        (hold_row,) = by_type["dispute_hold"]
        self.assertEqual(
            (hold_row["source"], hold_row["net"]), (held.capture_id, -3000)
        )

        # The available balance: every movement, the held money out of it.
        self.assertEqual(adapter.balance("EUR"), sum(row["net"] for row in rows))
        self.assertEqual(adapter.balance("USD"), 0)
        search = standin.last("GET", SEARCH)
        self.assertEqual(_query(search)["fields"], "all")
        self.assertEqual(_query(search)["transaction_currency"], "EUR")

    def test_search_in_31_day_windows_and_pages(self):
        standin = self.standin
        adapter = adapter_for(standin)
        for _n in range(5):
            paid_order(standin, adapter, 1000)
        with patch.object(paypal_reporting, "SEARCH_PAGE_SIZE", 2):
            # Nothing paid out yet: as far back as PayPal searches (three years).
            rows = adapter.balance_transactions("EUR")
            self.assertEqual(len(rows), 5)
            searches = standin.calls("GET", SEARCH)
            windows = {
                (_query(r)["start_date"], _query(r)["end_date"]) for r in searches
            }
            self.assertEqual(len(windows), 36)
            for request in searches:
                query = _query(request)
                span = paypal_reporting.epoch(
                    query["end_date"]
                ) - paypal_reporting.epoch(query["start_date"])
                self.assertTrue(0 <= span < 31 * 86400, span)
                self.assertEqual(request.status, 200)
            # The last window holds the five payments: three pages of two.
            self.assertEqual(
                sorted(int(_query(r)["page"]) for r in searches[-3:]), [1, 2, 3]
            )
            self.assertEqual(len(adapter.balance_transactions("EUR", limit=3)), 3)

    def test_reporting_errors_are_plain_words(self):
        adapter = adapter_for(self.standin)
        self.standin.fail_next(403, path_prefix="/v1/reporting/balances")
        with self.assertRaisesRegex(GatewayAuthError, "lacks permission"):
            adapter.balance("EUR")


@tagged("post_install", "-at_install")
class TestPaypalReportTimes(BaseCase):
    def test_report_times(self):
        for value, expected in [
            ("2024-05-02T10:01:02+0000", 1714644062),
            ("2024-05-02T12:01:02+0200", 1714644062),
            ("2024-05-02T10:01:02Z", 1714644062),
            ("", 0),
            ("junk", 0),
        ]:
            with self.subTest(value=value):
                self.assertEqual(paypal_reporting.epoch(value), expected)
