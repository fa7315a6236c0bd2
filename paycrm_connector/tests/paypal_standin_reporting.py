"""The PayPal stand-in's Transaction Search API: the account's movements and
balances, read from the stand-in's own state (captures with their fees,
refunds with the fee handed back, reversals, dispute holds).

Shapes after PayPal's reference (``GET /v1/reporting/transactions``: pages of
``transaction_details[].transaction_info`` with T-codes, signed amounts, a
negative ``fee_amount``, ``+0000`` offsets; ``GET /v1/reporting/balances``:
``total``/``available``/``withheld_balance`` per currency). Odoo-free.
"""

import math
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qsl

MERCHANT_ID = "C7CYMKZDG8D6E"
MAX_RANGE_SECONDS = 31 * 86400
HOLD_CODES = {"T1110", "T1111"}
BASE_FIELDS = ("transaction_info",)


def _stamp(value):
    """PayPal object time (``...Z``) -> epoch seconds."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _report_time(epoch):
    # The search reports times with a colon-less offset.
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S+0000"
    )


class ReportingMixin:
    """Routes and state for ``PaypalStandin`` (see ``_init_reporting``); the
    stand-in provides ``money`` (PayPal's money object) and ``error`` (its
    error type)."""

    def _init_reporting(self):
        """The reporting state, empty; the routes serving it."""
        self.reversals = set()  # refund ids that are PayPal reversals (T1106)
        self.adjustments = []  # dispute holds and releases, in order
        return [
            ("GET", "/v1/reporting/transactions", self._list_transactions),
            ("GET", "/v1/reporting/balances", self._list_balances),
        ]

    # -- helpers for tests -------------------------------------------------------

    def dispute_hold(self, capture_id, release=False):
        """PayPal holds (or releases) a disputed capture's amount."""
        with self._lock:
            capture = self.captures[capture_id]
            gross = Decimal(capture["amount"]["value"])
            self.adjustments.append(
                {
                    "id": self.new_id("HOLD"),
                    "code": "T1111" if release else "T1110",
                    "time": _stamp(capture["update_time"]),
                    "amount": gross if release else -gross,
                    "fee": Decimal(0),
                    "currency": capture["amount"]["currency_code"],
                    "reference": capture_id,
                }
            )

    def ledger(self):
        """Every movement of the account's balance, oldest first."""
        rows = []
        for capture in self.captures.values():
            breakdown = capture.get("seller_receivable_breakdown")
            if not breakdown:
                continue  # pending: not in the balance yet
            rows.append(
                {
                    "id": capture["id"],
                    "code": "T0006",
                    "time": _stamp(capture["create_time"]),
                    "amount": Decimal(breakdown["gross_amount"]["value"]),
                    "fee": -Decimal(breakdown["paypal_fee"]["value"]),
                    "currency": capture["amount"]["currency_code"],
                    "reference": capture["supplementary_data"]["related_ids"][
                        "order_id"
                    ],
                    "reference_type": "ODR",
                    "invoice_id": capture.get("invoice_id", ""),
                    "custom": capture.get("custom_id", ""),
                }
            )
        for refund in self.refunds.values():
            breakdown = refund["seller_payable_breakdown"]
            rows.append(
                {
                    "id": refund["id"],
                    "code": "T1106" if refund["id"] in self.reversals else "T1107",
                    "time": _stamp(refund["create_time"]),
                    "amount": -Decimal(breakdown["gross_amount"]["value"]),
                    # The part of its fee PayPal hands back.
                    "fee": Decimal(breakdown["paypal_fee"]["value"]),
                    "currency": refund["amount"]["currency_code"],
                    "reference": refund["capture_id"],
                    "invoice_id": refund.get("invoice_id", ""),
                    "custom": refund.get("custom_id", ""),
                }
            )
        rows += self.adjustments
        return sorted(rows, key=lambda row: row["time"])

    def balances(self):
        """``{currency: (available, withheld)}`` as ``Decimal``."""
        totals = {}
        for row in self.ledger():
            available, withheld = totals.get(row["currency"], (Decimal(0),) * 2)
            available += row["amount"] + row["fee"]
            if row["code"] in HOLD_CODES:
                withheld -= row["amount"]
            totals[row["currency"]] = (available, withheld)
        return totals

    # -- routes ------------------------------------------------------------------

    def _list_transactions(self, req):
        query = dict(parse_qsl(req.query))
        missing = [k for k in ("start_date", "end_date") if not query.get(k)]
        if missing:
            raise self.error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates "
                "schema.",
                "MISSING_REQUIRED_PARAMETER",
                f"{missing[0]} is required",
            )
        try:
            start, end = _stamp(query["start_date"]), _stamp(query["end_date"])
        except ValueError:
            start, end = 0, -1
        if not 0 <= end - start <= MAX_RANGE_SECONDS:
            raise self.error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates "
                "schema.",
                "INVALID_PARAMETER_VALUE",
                "Date range is greater than 31 days or end_date is before start_date",
            )
        size = min(max(int(query.get("page_size") or 100), 1), 500)
        page = max(int(query.get("page") or 1), 1)
        currency = query.get("transaction_currency")
        running = {}
        selected = []
        for row in self.ledger():
            balance = running.get(row["currency"], Decimal(0)) + row["amount"]
            balance += row["fee"]
            running[row["currency"]] = balance
            if start <= row["time"] <= end and currency in (None, row["currency"]):
                selected.append((row, balance))
        fields = set(query.get("fields", "transaction_info").split(","))
        chunk = selected[(page - 1) * size : page * size]
        return 200, {
            "transaction_details": [
                self._detail(row, balance, fields) for row, balance in chunk
            ],
            "account_number": MERCHANT_ID,
            "start_date": query["start_date"],
            "end_date": query["end_date"],
            "last_refreshed_datetime": _report_time(end),
            "page": page,
            "total_items": len(selected),
            "total_pages": math.ceil(len(selected) / size),
            "links": [
                {
                    "href": f"{req.path}?{req.query}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }

    def _detail(self, row, balance, fields):
        money = self.money
        currency = row["currency"]
        info = {
            "paypal_account_id": "QYR5Z8XDVJNXQ",
            "transaction_id": row["id"],
            "paypal_reference_id": row["reference"],
            "paypal_reference_id_type": row.get("reference_type", "TXN"),
            "transaction_event_code": row["code"],
            "transaction_initiation_date": _report_time(row["time"]),
            "transaction_updated_date": _report_time(row["time"]),
            "transaction_amount": money(row["amount"], currency),
            "transaction_status": "S",
            "ending_balance": money(balance, currency),
            "available_balance": money(balance, currency),
            "invoice_id": row.get("invoice_id", ""),
            "custom_field": row.get("custom", ""),
            "protection_eligibility": "01",
        }
        if row["fee"]:
            info["fee_amount"] = money(row["fee"], currency)
        detail = {"transaction_info": info}
        if "all" in fields:
            detail |= {
                "payer_info": {
                    "account_id": "QYR5Z8XDVJNXQ",
                    "email_address": "buyer@example.com",
                    "payer_status": "Y",
                },
                "shipping_info": {},
                "cart_info": {},
                "store_info": {},
                "auction_info": {},
                "incentive_info": {},
            }
        return detail

    def _list_balances(self, req):
        money = self.money
        query = dict(parse_qsl(req.query))
        wanted = query.get("currency_code")
        items = []
        for currency, (available, withheld) in sorted(self.balances().items()):
            if wanted and wanted != currency:
                continue
            items.append(
                {
                    "currency": currency,
                    "primary": currency == "USD",
                    "total_balance": money(available + withheld, currency),
                    "available_balance": money(available, currency),
                    "withheld_balance": money(withheld, currency),
                }
            )
        now = _report_time(int(datetime.now(timezone.utc).timestamp()))
        return 200, {
            "balances": items,
            "account_id": MERCHANT_ID,
            "as_of_time": query.get("as_of_time") or now,
            "last_refresh_time": now,
        }
