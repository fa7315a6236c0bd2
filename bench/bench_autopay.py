"""Auto-pay benchmark (not a test): run with ``make bench-autopay``.

The daily auto-pay run over N due invoices of C auto-pay customers (default
5,000 of 1,000), each saved method a Stripe test card of its own
(``pm_card_visa_<n>``) on the local Stripe stand-in answering every request
after 50 ms. Two runs are started together, each on its own connection and
committing as the cron does; then the same number of fresh invoices is
charged one by one through the *Charge Saved Method* path (the button).

Printed: wall time, charges per invoice at the gateway (distinct payment
intents; must be exactly 1.000), idempotent replays, SQL queries per invoice,
and the ratio of the daily run to the one-by-one button path.

Environment (set by setup/bench.sh): ODOO_RC, PAYCRM_DB, PAYCRM_BENCH_RESULTS.
Options: ``--invoices 5000 --customers 1000`` (smaller to shorten).
"""

import argparse
import logging
import threading
import time
from collections import Counter
from datetime import timedelta

import harness
import standins

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry

STANDIN_DELAY = 0.050
CREATE_BATCH = 500


def generate(env, standin, customers, invoices, tag):
    """A Stripe gateway on the stand-in, ``customers`` auto-pay customers with
    a card each, ``invoices`` posted invoices due yesterday."""
    company = env.ref("base.main_company")
    gateway = env["paycrm.gateway"].search(
        [("provider", "=", "stripe"), ("company_id", "=", company.id)], limit=1
    ) or env["paycrm.gateway"].create(
        {
            "name": "Stripe (bench)",
            "provider": "stripe",
            "company_id": company.id,
            "secret_key": "sk_test_bench",
            "webhook_secret": "whsec_bench",
            "api_base_url": standin.url,
            "timeout": 10.0,
            "max_network_retries": 0,
        }
    )
    for i in range(customers):
        # The gateway's customers, seeded at the stand-in (no HTTP).
        standin.put("customer", {"id": f"cus_bench_{tag}_{i}"})
    partners = env["res.partner"].create(
        [
            {"name": f"Autopay {tag} {i}", "email": f"autopay{tag}.{i}@example.com"}
            for i in range(customers)
        ]
    )
    methods = env["paycrm.payment.method"].create(
        [
            {
                "partner_id": partner.id,
                "gateway_id": gateway.id,
                "method_ref": f"pm_card_visa_{tag}_{i}",
                "customer_ref": f"cus_bench_{tag}_{i}",
                "method_type": "card",
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2040,
            }
            for i, partner in enumerate(partners)
        ]
    )
    for partner, method in zip(partners, methods, strict=True):
        partner.write({"paycrm_autopay": True, "paycrm_autopay_method_id": method.id})
    env.cr.commit()
    due = fields.Date.today() - timedelta(days=1)
    moves = env["account.move"].with_context(
        mail_create_nolog=True, mail_create_nosubscribe=True
    )
    created = moves.browse()
    for start in range(0, invoices, CREATE_BATCH):
        batch = moves.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[n % customers].id,
                    "invoice_date": due,
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Subscription", "price_unit": 50.0, "tax_ids": []}
                        )
                    ],
                }
                for n in range(start, min(start + CREATE_BATCH, invoices))
            ]
        )
        batch.action_post()
        created |= batch
        env.cr.commit()
        env.invalidate_all()
    return created


def intents_per_invoice(standin, invoice_ids):
    wanted = {str(i) for i in invoice_ids}
    counts = Counter(
        (intent.get("metadata") or {}).get("paycrm_invoice_id")
        for intent in list(standin.objects["payment_intent"].values())
    )
    charged = [counts.get(i, 0) for i in wanted]
    return sum(charged) / len(wanted), min(charged), max(charged)


def daily_runs(registry, together=2):
    """``together`` daily runs started at once; their results and queries."""
    results, errors = [None] * together, []
    barrier = threading.Barrier(together)

    def run(slot):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"paycrm_commit": True})
                barrier.wait()
                queries = cr.sql_log_count
                outcome = env["paycrm.autopay"]._paycrm_autopay_run(limit=10**6)
                cr.commit()
                results[slot] = (outcome, cr.sql_log_count - queries)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(together)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, results, errors


def one_by_one(registry, invoice_ids):
    """The button path, one invoice per transaction (as one click each)."""
    queries = 0
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        autopay = env["paycrm.autopay"]
        for invoice in env["account.move"].browse(invoice_ids):
            before = cr.sql_log_count
            autopay._paycrm_autopay_charge_now(invoice)
            cr.commit()
            queries += cr.sql_log_count - before
            env.invalidate_all()
    return time.perf_counter() - start, queries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    harness.setup_odoo()
    # One INFO line per request from the SDK would drown the table.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    stripe_standin = standins.load("stripe_standin")
    standin = stripe_standin.StripeStandin().start()
    standin.delay = STANDIN_DELAY
    registry = Registry(harness.DB)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            t0 = time.perf_counter()
            daily = generate(env, standin, args.customers, args.invoices, "d")
            button = generate(env, standin, args.customers, args.invoices, "b")
            gen_s = time.perf_counter() - t0
            daily_ids, button_ids = daily.ids, button.ids
            # The button's invoices must not be taken by the daily runs.
            button.write({"invoice_date_due": fields.Date.today() + timedelta(30)})
            cr.commit()
        print(f"generated {2 * args.invoices} invoices in {gen_s:.1f} s")
        run_s, results, errors = daily_runs(registry)
        if errors:
            raise errors[0]
        per_invoice, low, high = intents_per_invoice(standin, daily_ids)
        claimed = sum(r[0].claimed for r in results)
        sent = sum(r[0].sent for r in results)
        queries = sum(r[1] for r in results)
        replays = standin.idempotent_replays
        button_s, button_queries = one_by_one(registry, button_ids)
        b_per_invoice, b_low, b_high = intents_per_invoice(standin, button_ids)
        n = args.invoices
        harness.print_table(
            f"Auto-pay: {n:,} due invoices of {args.customers:,} customers "
            f"(stand-in {STANDIN_DELAY * 1000:.0f} ms)",
            ["path", "wall s", "ms / invoice", "charges / invoice", "min-max",
             "queries / invoice"],
            [
                ["daily run x2 together", run_s, run_s * 1000 / n, per_invoice,
                 f"{low}-{high}", queries / n],
                ["button, one by one", button_s, button_s * 1000 / n, b_per_invoice,
                 f"{b_low}-{b_high}", button_queries / n],
                ["ratio daily / button", run_s / button_s, "", "", "",
                 (queries / n) / (button_queries / n)],
            ],
        )  # fmt: skip
        print(
            f"\nclaimed {claimed} (runs: {[r[0].claimed for r in results]}), sent "
            f"{sent} (runs: {[r[0].sent for r in results]}), idempotent replays "
            f"{replays}; statistics: {harness.STATISTICS}"
        )
        if per_invoice != 1.0 or low != 1 or high != 1:
            raise SystemExit("FAILED: an invoice was not charged exactly once")
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
