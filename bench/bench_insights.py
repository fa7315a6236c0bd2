"""Payment insights benchmark: profile recompute, partner form read, analysis views.

Run by ``make bench-insights`` (setup/bench.sh gives a throw-away database).
Sizes: ``--sizes 200:5000,2000:50000`` (customers:invoices, default both); each
size adds its own customers, so the analysis views see every size so far.
History: invoices over the last 13 months, ~70 % paid (0-40 days after the
due date, a few early), paid in batches (account.payment + _reconcile_plan);
10 % of the paid ones got a reminder, 20 % carry gateway events.

Goals (issue 7, at 2,000 / 50,000): recompute <= 30 s, partner form read
<= 100 ms, each analysis view <= 1 s. Peers measured in the same run:
- recompute: the ORM way for two of the figures only (``_read_group`` of open
  and overdue residual per customer over account.move);
- form read: the same partner form without the payment-profile fields;
- views: Odoo's own Invoices Analysis (``account.invoice.report``) by month.
Generation time is printed apart; it is not a goal.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))

from harness import environment, print_table, setup_odoo, summary  # noqa: E402

from odoo import Command, fields  # noqa: E402

BATCH = 500
REPEAT = 3


def generate(env, customers, invoices, tag):
    rng = random.Random(invoices)
    today = fields.Date.context_today(env.user)
    company = env.company
    partners = env["res.partner"].create(
        [{"name": f"Insights {tag} customer {i}"} for i in range(customers)]
    )
    policy = env["paycrm.reminder.policy"].create(
        {
            "name": f"Bench {tag}",
            "company_id": company.id,
            "stage_ids": [
                Command.create(
                    {
                        "name": "Overdue",
                        "offset_days": 7,
                        "mail_template_id": env.ref(
                            "paycrm_connector.mail_template_paycrm_reminder_overdue"
                        ).id,
                    }
                )
            ],
        }
    )
    gateway = env["paycrm.gateway"].search(
        [("company_id", "=", company.id)], limit=1
    ) or env["paycrm.gateway"].create(
        {"name": "Bench demo", "provider": "demo", "company_id": company.id}
    )
    to_pay = defaultdict(list)  # payment date -> invoices
    for start in range(0, invoices, BATCH):
        vals = []
        for n in range(start, min(start + BATCH, invoices)):
            day = today - timedelta(days=rng.randint(0, 395))
            vals.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[n % customers].id,
                    "invoice_date": day,
                    "invoice_date_due": day + timedelta(days=30),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "price_unit": rng.randint(50, 3000),
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        batch = env["account.move"].create(vals)
        batch.action_post()
        for move in batch:
            paid = move.invoice_date_due + timedelta(days=rng.randint(-5, 40))
            if paid <= today and rng.random() < 0.7:
                to_pay[paid].append(move.id)
        env.cr.commit()
    paid_moves = pay_in_batches(env, to_pay)
    logs, events = [], []
    for move in paid_moves:
        roll = rng.random()
        if roll < 0.1:
            logs.append(
                {
                    "company_id": company.id,
                    "invoice_id": move.id,
                    "stage_id": policy.stage_ids.id,
                    "result": "sent",
                    "sent_at": fields.Datetime.to_datetime(
                        move.invoice_date_due + timedelta(days=7)
                    ),
                }
            )
        if roll < 0.2:
            kind = "payment_failed" if roll < 0.03 else "payment_succeeded"
            events.append(
                {
                    "gateway_id": gateway.id,
                    "company_id": company.id,
                    "external_id": f"evt_bench_{tag}_{move.id}",
                    "event_type": kind,
                    "kind": kind,
                    "state": "done",
                    "invoice_id": move.id,
                    "currency_id": move.currency_id.id,
                    "amount": move.amount_total,
                    "fee_amount": round(move.amount_total * 0.015 + 0.25, 2),
                    "created": fields.Datetime.to_datetime(move.invoice_date_due),
                }
            )
    for start in range(0, len(logs), BATCH):
        env["paycrm.reminder.log"].create(logs[start : start + BATCH])
    for start in range(0, len(events), BATCH):
        env["paycrm.event"].create(events[start : start + BATCH])
    # Generation queued every customer: drop that, the recompute is measured.
    env.cr.precommit.clear()
    env.cr.commit()
    return partners


def pay_in_batches(env, to_pay):
    """Payments created and posted BATCH at a time, each reconciled with its
    invoice through one ``_reconcile_plan`` call (what the register wizard does
    one invoice at a time)."""
    pairs = [(day, move) for day, ids in sorted(to_pay.items()) for move in ids]
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
    )
    paid = env["account.move"]
    for start in range(0, len(pairs), BATCH):
        chunk = pairs[start : start + BATCH]
        invoices = env["account.move"].browse([move for _day, move in chunk])
        payments = env["account.payment"].create(
            [
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": invoice.commercial_partner_id.id,
                    "amount": invoice.amount_residual,
                    "date": day,
                    "journal_id": journal.id,
                }
                for (day, _move), invoice in zip(chunk, invoices, strict=True)
            ]
        )
        payments.action_post()
        plan = [
            (payment.move_id.line_ids | invoice.line_ids).filtered(
                lambda line: (
                    line.account_type == "asset_receivable" and not line.reconciled
                )
            )
            for payment, invoice in zip(payments, invoices, strict=True)
        ]
        env["account.move.line"]._reconcile_plan(plan)
        paid |= invoices
        env.cr.commit()
    return paid


def repeat(func, env, times=REPEAT):
    samples = []
    for _n in range(times):
        env.invalidate_all()
        start = time.perf_counter()
        func()
        env.flush_all()
        samples.append(time.perf_counter() - start)
    return samples


def form_spec(env, with_profile):
    model = env["res.partner"]
    names = model.get_views([(False, "form")])["models"]["res.partner"]["fields"]
    spec = {}
    for name in names:
        if not with_profile and name.startswith("paycrm_"):
            continue
        field = model._fields[name]
        many2one = field.type == "many2one"
        spec[name] = {"fields": {"display_name": {}}} if many2one else {}
    return spec


def measure(env, customers, invoices, tag):
    start = time.perf_counter()
    partners = generate(env, customers, invoices, tag)
    gen_s = time.perf_counter() - start

    recompute = repeat(partners._paycrm_recompute_profiles, env)
    env.cr.commit()
    today = fields.Date.context_today(env.user)

    def orm_peer():
        base = [("partner_id", "in", partners.ids), ("move_type", "=", "out_invoice")]
        env["account.move"]._read_group(
            [*base, ("payment_state", "in", ("not_paid", "partial"))],
            ["partner_id"],
            ["amount_residual_signed:sum"],
        )
        env["account.move"]._read_group(
            [
                *base,
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ],
            ["partner_id"],
            ["amount_residual_signed:sum"],
        )

    peer_recompute = repeat(orm_peer, env)

    rng = random.Random(customers)
    sample = [rng.choice(partners.ids) for _n in range(20)]
    full, bare = form_spec(env, True), form_spec(env, False)

    def reads(spec):
        out = []
        for pid in sample:
            env.invalidate_all()
            start = time.perf_counter()
            env["res.partner"].browse(pid).web_read(spec)
            out.append(time.perf_counter() - start)
        return out

    form, form_peer = reads(full), reads(bare)

    views = {
        "invoice payments": lambda: env["paycrm.invoice.analysis"]._read_group(
            [], ["due_date:month", "status"], ["invoice_count:sum", "amount_total:sum"]
        ),
        "DSO trend": lambda: env["paycrm.dso.analysis"]._read_group(
            [], ["date:month"], ["dso:avg"]
        ),
        "reminder effect": lambda: env["paycrm.reminder.analysis"]._read_group(
            [], ["stage_id"], ["reminder_count:sum", "paid_7_rate:avg"]
        ),
        "gateway payments": lambda: env["paycrm.gateway.analysis"]._read_group(
            [], ["gateway_id", "date:month"], ["success_rate:avg", "fee_amount:sum"]
        ),
    }
    view_times = {name: repeat(func, env) for name, func in views.items()}
    peer_view = repeat(
        lambda: env["account.invoice.report"]._read_group(
            [], ["invoice_date:month", "payment_state"], ["price_subtotal:sum"]
        ),
        env,
    )
    return {
        "customers": customers,
        "invoices": invoices,
        "gen_s": gen_s,
        "recompute": recompute,
        "peer_recompute": peer_recompute,
        "form": form,
        "form_peer": form_peer,
        "views": view_times,
        "peer_view": peer_view,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200:5000,2000:50000")
    args = parser.parse_args()
    setup_odoo()
    results = []
    for size in args.sizes.split(","):
        customers, invoices = (int(x) for x in size.split(":"))
        with environment() as env:
            results.append(measure(env, customers, invoices, f"s{invoices}"))

    rows = []
    for r in results:
        med = statistics.median
        rec, peer = med(r["recompute"]), med(r["peer_recompute"])
        form, form_peer = summary(r["form"]), summary(r["form_peer"])
        rows.append(
            [
                f"{r['customers']}/{r['invoices']}",
                "recompute profiles (s)",
                rec,
                max(r["recompute"]),
                1000 * rec / r["customers"],
                rec / peer,
                "<= 30 s",
            ]
        )
        rows.append(
            [
                "",
                "partner form read (ms)",
                form["median_ms"],
                form["p95_ms"],
                form["median_ms"],
                form["median_ms"] / form_peer["median_ms"],
                "<= 100 ms",
            ]
        )
        peer_view = med(r["peer_view"])
        for name, samples in r["views"].items():
            rows.append(
                [
                    "",
                    f"view: {name} (s)",
                    med(samples),
                    max(samples),
                    1e6 * med(samples) / r["invoices"],
                    med(samples) / peer_view,
                    "<= 1 s",
                ]
            )
        rows.append(["", "data generation (s)", r["gen_s"], "", "", "", "not a goal"])
    print_table(
        "Payment insights",
        ["customers/invoices", "measure", "median", "max/p95", "per item",
         "ratio to peer", "goal"],
        rows,
    )  # fmt: skip
    print(
        "per item: ms per customer (recompute), ms per read (form), µs per "
        "invoice (views). Peers: ORM _read_group of 2 figures (recompute), form "
        "without profile fields (read), account.invoice.report by month (views)."
    )
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = statistics.median(large["recompute"]) / statistics.median(
            small["recompute"]
        )
        print(
            f"growth {small['invoices']} -> {large['invoices']} invoices "
            f"(x{large['invoices'] / small['invoices']:.0f}): recompute x{growth:.1f}"
        )


if __name__ == "__main__":
    main()
