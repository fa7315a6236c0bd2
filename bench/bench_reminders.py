"""Reminder run benchmark: preview and full run over N open invoices.

Run by ``make bench-reminders`` (setup/bench.sh gives a throw-away database).
Sizes: ``--sizes 1000,10000`` (default), five invoices per customer, ~90 %
overdue. Each size gets its own customers and its own policy (a per-customer
override), so sizes do not see each other's invoices. Messages are queued in
mail.mail and sms.sms, never delivered (no mail/SMS cron runs here).

Peer: OCA account_invoice_overdue_reminder 18.0 on the 10,000/2,000 shape took
~90 s to prepare and ~55 s to send (~45 ms per customer), peak 355 MiB. At other
sizes the peer figures are scaled linearly, which flatters the peer.
"""

import argparse
import os
import random
import resource
import statistics
import time
import uuid
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry

PEER_PREPARE_S = 90.0
PEER_SEND_S = 55.0
PEER_MS_PER_CUSTOMER = 45.0
PEER_SIZE = 10_000
INVOICES_PER_CUSTOMER = 5
CREATE_BATCH = 500


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(env, size, tag, today):
    """Customers, a policy and ``size`` posted invoices, in batched creates."""
    rng = random.Random(size)
    company = env.ref("base.main_company")
    template = env.ref("paycrm_connector.paycrm_reminder_policy_default")
    policy = template.copy({"name": f"Bench {tag}", "skip_weekends": False})
    customers = size // INVOICES_PER_CUSTOMER
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench {tag} customer {i}",
                "email": f"bench{tag}.{i}@example.com",
                "mobile": f"+3247{i:07d}",
                "paycrm_reminder_channel": "both",
            }
            for i in range(customers)
        ]
    )
    partners.with_company(company).paycrm_reminder_policy_id = policy
    # Bulk data, not the measured part: no "invoice created" note per invoice,
    # and the portal token given up front so posting does not write it per move.
    moves = (
        env["account.move"]
        .with_company(company)
        .with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
    )
    for start in range(0, size, CREATE_BATCH):
        vals = []
        for n in range(start, min(start + CREATE_BATCH, size)):
            # ~90 % overdue (1-40 days late), the rest due within 5 days.
            late = rng.randint(1, 40) if rng.random() < 0.9 else -rng.randint(0, 5)
            due = today - timedelta(days=late)
            vals.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[n % customers].id,
                    "invoice_date": due,
                    "invoice_date_due": due,
                    "access_token": str(uuid.uuid4()),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "price_unit": rng.randint(20, 2000),
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        moves.create(vals).action_post()
        env.cr.commit()
        env.invalidate_all()  # keep the cache (and memory) to one batch
    return policy, customers


def measure(registry, size, tag):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        company.paycrm_reminder_policy_id = False  # only per-customer policies
        today = fields.Date.today()
        t0 = time.perf_counter()
        policy, customers = generate(env, size, tag, today)
        gen_s = time.perf_counter() - t0
        cr.commit()

        previews = []
        for _n in range(3):
            t0 = time.perf_counter()
            policy.action_paycrm_preview()
            previews.append(time.perf_counter() - t0)
            cr.rollback()  # drop the transient wizard lines
        plan = policy._paycrm_plan(policy._paycrm_today())
        due_customers = sum(1 for g in plan if g["items"])
        due_invoices = sum(len(g["items"]) for g in plan)
        env.invalidate_all()

        rss0 = rss_mib()
        q0 = cr.sql_log_count
        load0 = os.getloadavg()[0]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        if os.environ.get("PAYCRM_BENCH_PROFILE"):
            import cProfile  # noqa: PLC0415 - only when asked
            import pstats  # noqa: PLC0415

            profile = cProfile.Profile()
            stats = profile.runcall(policy._paycrm_run, auto_commit=True)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        else:
            stats = policy._paycrm_run(auto_commit=True)
        run_s = time.perf_counter() - t0
        # CPU of this process only (PostgreSQL's share excluded): on a shared
        # machine it moves less with the load than the wall-clock time.
        run_cpu_s = time.process_time() - cpu0
        queries = cr.sql_log_count - q0
        rss1 = rss_mib()
        mails = env["mail.mail"].search_count([("state", "=", "outgoing")])
        return {
            "size": size,
            "customers": customers,
            "due_customers": due_customers,
            "due_invoices": due_invoices,
            "gen_s": gen_s,
            "preview_median": statistics.median(previews),
            "preview_max": max(previews),
            "run_s": run_s,
            "run_cpu_s": run_cpu_s,
            "load": (load0, os.getloadavg()[0]),
            "sent": stats["sent"],
            "queries": queries,
            "rss_growth": rss1 - rss0,
            "rss_peak": rss1,
            "mails": mails,
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    odoo.tools.config.parse_config(["-c", os.environ["ODOO_RC"]])
    registry = Registry(os.environ["PAYCRM_DB"])
    results = [measure(registry, size, f"s{size}") for size in sizes]

    print()
    print(
        f"{'invoices':>8} {'cust':>5} {'due cust':>8} {'due inv':>7} {'gen s':>7} "
        f"{'preview s':>9} {'run s':>7} {'cpu s':>6} {'ms/cust':>7} {'q/cust':>6} "
        f"{'RSS +MiB':>8} {'peak MiB':>8} {'prev/peer':>9} {'run/peer':>8}"
    )
    for r in results:
        scale = r["size"] / PEER_SIZE
        per_cust = 1000 * r["run_s"] / max(r["sent"], 1)
        print(
            f"{r['size']:>8} {r['customers']:>5} {r['due_customers']:>8} "
            f"{r['due_invoices']:>7} {r['gen_s']:>7.1f} {r['preview_median']:>9.2f} "
            f"{r['run_s']:>7.2f} {r['run_cpu_s']:>6.2f} {per_cust:>7.1f} "
            f"{r['queries'] / max(r['sent'], 1):>6.1f} {r['rss_growth']:>8.1f} "
            f"{r['rss_peak']:>8.1f} "
            f"{r['preview_median'] / (PEER_PREPARE_S * scale):>9.3f} "
            f"{r['run_s'] / (PEER_SEND_S * scale):>8.3f}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        size_ratio = large["size"] / small["size"]
        print(
            f"\ngrowth {small['size']} -> {large['size']} (x{size_ratio:.0f} data): "
            f"preview x{large['preview_median'] / small['preview_median']:.1f}, "
            f"run x{large['run_s'] / small['run_s']:.1f} "
            f"(CPU x{large['run_cpu_s'] / small['run_cpu_s']:.1f}), "
            f"queries x{large['queries'] / max(small['queries'], 1):.1f}"
        )
    print(
        f"peer (OCA account_invoice_overdue_reminder, 10k/2k): prepare "
        f"{PEER_PREPARE_S:.0f} s, send {PEER_SEND_S:.0f} s, "
        f"{PEER_MS_PER_CUSTOMER:.0f} ms/customer, peak 355 MiB; ratios < 1 are faster "
        "than the peer (peer scaled linearly to each size)."
    )
    print(
        "machine load (1-min loadavg) before -> after each run: "
        + ", ".join(
            f"{r['size']}: {r['load'][0]:.2f} -> {r['load'][1]:.2f}" for r in results
        )
    )
    print(
        "preview s = median of 3 dry runs (max "
        + ", ".join(f"{r['preview_max']:.2f}" for r in results)
        + "); run s = one full run committing per batch (cpu s: its Python CPU "
        "time); gen s = bulk data "
        "creation (not part of the goal)."
    )


if __name__ == "__main__":
    main()
