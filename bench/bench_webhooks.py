"""Webhook benchmark: our /paycrm/webhook against Odoo's own payment_stripe.

Run by ``make bench-webhooks`` (setup/bench.sh gives a throw-away database with
the addon; this script adds Odoo's ``payment_stripe`` to it so both coexist).
Sizes: ``--sizes 1000,10000`` (default) for ingest and processing growth.

Phases, all on 127.0.0.1, bounded in count and time:
1. ack latency, sequential, interleaved floor / ours / theirs, ``--workers=2``;
2. sustained ingest, 8 client threads, 10 % duplicates, processor cron off;
3. event -> invoice reconciled, demo events paced at 20/s, cron triggered
   (after a few warm-up payments: a cron worker loads its registry once);
4. processing cost per payment, in process: ours vs their ``_post_process``;
5. sustained ingest again with the processor on, booking each payment as it
   arrives, then waiting until every event is booked (zero lost, zero booked
   twice);
6. processing growth: partial payments, 10 per invoice, at each size.

The load generator is light on purpose (it shares the server's 2 cores):
bodies are signed before the clock starts (a timestamp stays valid for 300
s), and each post is one ``http.client`` connection, as Odoo's prefork
workers answer HTTP/1.0 and close every connection (no keep-alive). CPU
seconds per event of each process group are printed with the ingest tables.
"""

import argparse
import os
import random
import subprocess
import sys
import threading
import time

import harness
import psutil
from harness import (
    THREADS,
    OdooServer,
    Tee,
    environment,
    machine,
    post,
    print_table,
    send_all,
    set_cron,
    summary,
    timed,
)

from odoo.tools import SQL

# The addon's modules import through odoo.addons: the config (addons path)
# must be parsed first. The registry itself loads later, after installing
# payment_stripe.
harness.setup_odoo()
import webhook_data as data  # noqa: E402

DUPLICATES = 0.10
DRAIN_TIMEOUT = 1800.0
RATE = 20.0
WARM_PAYMENTS = 10
PROCESS_SAMPLE = 300
SINGLE_SAMPLE = 20
PARTIALS_PER_INVOICE = 10
FAKE_INVOICE = {"id": 0, "name": "INV/NONE", "company_id": 1, "minor": 10000}


def install_payment_stripe():
    subprocess.run(
        [*harness.ODOO_CMD, "-c", os.environ["ODOO_RC"], "-d", harness.DB]
        + ["-i", "payment_stripe", "--stop-after-init", "--no-http"]
        + ["--log-level=warn"],
        check=True,
    )


class CpuMeter:
    """CPU seconds used by each part of the system between start and stop:
    this script (the load generator), Odoo's HTTP workers, its cron worker
    (the processor) and the PostgreSQL backends of the bench database."""

    def __init__(self, server):
        self.server = server

    def _sample(self):
        groups = {"client": time.process_time(), "http": 0.0, "cron": 0.0, "pg": 0.0}
        master = psutil.Process(self.server.process.pid)
        for proc in [master, *master.children(recursive=True)]:
            try:
                cpu = proc.cpu_times()
                # Odoo's cron worker runs at nice 10, HTTP workers at 0.
                group = "cron" if proc.nice() > 0 else "http"
            except psutil.Error:
                continue
            groups[group] += cpu.user + cpu.system
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if cmdline.startswith("postgres:") and f" {self.server.db} " in cmdline:
                try:
                    cpu = proc.cpu_times()
                except psutil.Error:
                    continue
                groups["pg"] += cpu.user + cpu.system
        return groups

    def __enter__(self):
        self.before = self._sample()
        self.used = {}
        return self

    def __exit__(self, *exc):
        after = self._sample()
        self.used = {key: after[key] - self.before[key] for key in after}


def cpu_cells(cpu, posts):
    """CPU ms per post: client, HTTP workers, cron worker, PostgreSQL."""
    return [cpu[key] * 1000 / posts for key in ("client", "http", "cron", "pg")]


CPU_HEADERS = ["CPU ms/post: client", "HTTP workers", "cron worker", "PostgreSQL"]


# ------------------------------------------------------------------ phases


def bench_ack(server, ours, count, currency):
    with environment() as env:
        provider = data.make_provider(env)
        txs = data.make_transactions(env, provider, count + 10, "ack")
    fake = dict(FAKE_INVOICE, currency=currency)
    ours_url = f"{server.url}/paycrm/webhook/{ours}"
    theirs_url = f"{server.url}/payment/stripe/webhook"
    samples = {"floor": [], "ours": [], "theirs": []}
    for n, tx in enumerate(txs):
        ours_signed = data.checkout_completed(fake, "x")
        theirs_signed = data.intent_succeeded(tx["reference"], 10000, currency)
        floor, answer = post(f"{server.url}/web/health", None, None, method="GET")
        answer.raise_for_status()
        our_s, answer = post(ours_url, *ours_signed)
        assert answer.text == "ok", answer.text
        their_s, answer = post(theirs_url, *theirs_signed)
        answer.raise_for_status()
        if n >= 10:  # the first ten warm the workers' caches
            for key, value in (("floor", floor), ("ours", our_s), ("theirs", their_s)):
                samples[key].append(value)
    with environment() as env:
        done = env["payment.transaction"].search_count(
            [("reference", "=like", "BENCH-ack-%"), ("state", "=", "done")]
        )
    assert done == len(txs), f"their webhook set {done}/{len(txs)} done"
    return {key: summary(values) for key, values in samples.items()}


def ack_row(name, stats, ack):
    """p50 / p95, then the same net of the trivial route: what the handler costs."""
    theirs, floor = ack["theirs"]["median_ms"], ack["floor"]["median_ms"]
    above = stats["median_ms"] - floor
    return [name, stats["median_ms"], stats["p95_ms"], stats["median_ms"] / theirs] + [
        above,
        above / (theirs - floor) if theirs > floor else float("nan"),
    ]


def with_duplicates(unique, seed):
    """``unique`` plus DUPLICATES of them again, shuffled: redeliveries."""
    rng = random.Random(seed)
    posts = unique + rng.sample(unique, int(len(unique) * DUPLICATES))
    rng.shuffle(posts)
    return posts


def ingest_row(size, posts, elapsed, results, stored):
    answers = [answer for _s, answer in results]
    return {
        "size": size,
        "posts": len(posts),
        "elapsed": elapsed,
        "posts_s": len(posts) / elapsed,
        "events_s": size / elapsed,
        "ok": sum(a.status_code == 200 and a.text == "ok" for a in answers),
        "dup": sum(a.status_code == 200 and a.text == "duplicate" for a in answers),
        "errors": sum(a.status_code != 200 for a in answers),
        "stored": stored,
        "latency": summary([s for s, _a in results]),
    }


def bench_ingest(server, ours, size, currency):
    """Intake alone: Stripe events naming no invoice, processor cron off."""
    fake = dict(FAKE_INVOICE, currency=currency)
    posts = with_duplicates(
        [data.checkout_completed(fake, "x") for _n in range(size)], size
    )
    with environment() as env:
        before = env["paycrm.event"].search_count([])
    with CpuMeter(server) as cpu:
        elapsed, results = send_all(f"{server.url}/paycrm/webhook/{ours}", posts)
    with environment() as env:
        stored = env["paycrm.event"].search_count([]) - before
        # Keep the rows (the store grows as in production) but out of the
        # queue: they name no invoice of this database.
        env.cr.execute(
            SQL("UPDATE paycrm_event SET state = 'ignored' WHERE state = 'received'")
        )
    return ingest_row(size, posts, elapsed, results, stored) | {"cpu": cpu.used}


def bench_ingest_booked(server, demo, secret, invoices):
    """Intake while the processor books every payment, then the drain.

    One demo payment per invoice, plus redeliveries. Afterwards every event
    must be done, every invoice paid once: its received amount equals its
    total (a payment booked twice would show as twice the amount).
    """
    size = len(invoices)
    posts = with_duplicates(
        [data.demo_payment(invoice, harness.DB, secret) for invoice in invoices],
        size + 1,
    )
    ids = [invoice["id"] for invoice in invoices]
    with environment() as env:
        before = env["paycrm.event"].search_count([])
        first_event = env["paycrm.event"].search([], limit=1).id or 0
    with CpuMeter(server) as cpu:
        elapsed, results = send_all(f"{server.url}/paycrm/webhook/{demo}", posts)
    with environment() as env:
        stored = env["paycrm.event"].search_count([]) - before
        backlog = env["paycrm.event"].search_count(
            [("id", ">", first_event), ("state", "=", "received")]
        )
    row = ingest_row(size, posts, elapsed, results, stored) | {"cpu": cpu.used}
    start = time.perf_counter()
    with CpuMeter(server) as drain_cpu:
        while time.perf_counter() - start < DRAIN_TIMEOUT:
            with environment() as env:
                waiting = env["paycrm.event"].search_count(
                    [("id", ">", first_event), ("state", "=", "received")]
                )
            if not waiting:
                break
            time.sleep(0.5)
    drain_s = time.perf_counter() - start
    with environment() as env:
        events = env["paycrm.event"].search([("id", ">", first_event)])
        moves = env["account.move"].browse(ids)
        paid_once = moves.filtered(
            lambda m: (
                m.payment_state in ("paid", "in_payment")
                and m.currency_id.compare_amounts(
                    m.paycrm_amount_received, m.amount_total
                )
                == 0
            )
        )
        row |= {
            "backlog": backlog,
            "drain_s": drain_s,
            "drain_cpu": drain_cpu.used,
            "done": len(events.filtered(lambda e: e.state == "done")),
            "not_done": len(events.filtered(lambda e: e.state != "done")),
            "paid_once": len(paid_once),
            "booked_moves": len(events.move_id),
        }
    return row


def warm_processor(server, demo, secret, invoices, timeout=120.0):
    """Book a few payments first: the cron worker loads its registry on its
    first job (seconds), which no running server pays per event."""
    url = f"{server.url}/paycrm/webhook/{demo}"
    for invoice in invoices:
        post(url, *data.demo_payment(invoice, harness.DB, secret))[1].raise_for_status()
    ids = [invoice["id"] for invoice in invoices]
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with environment() as env:
            unpaid = env["account.move"].search_count(
                [("id", "in", ids), ("payment_state", "not in", ("paid", "in_payment"))]
            )
        if not unpaid:
            return
        time.sleep(0.2)
    raise RuntimeError(f"warm-up payments not booked within {timeout:g} s")


def bench_reconcile(server, demo, secret, invoices):
    url = f"{server.url}/paycrm/webhook/{demo}"
    bodies = [data.demo_payment(inv, harness.DB, secret) for inv in invoices]
    sent, seen = {}, {}
    stop = threading.Event()

    def watch():
        conn = harness.connect()
        ids = [inv["id"] for inv in invoices]
        with conn.cursor() as cr:
            while not stop.is_set():
                cr.execute(
                    "SELECT id FROM account_move WHERE id = ANY(%s) "
                    "AND payment_state IN ('paid', 'in_payment')",
                    [[i for i in ids if i not in seen]],
                )
                now = time.perf_counter()
                for (move_id,) in cr.fetchall():
                    seen.setdefault(move_id, now)
                if len(seen) == len(ids):
                    break
                time.sleep(0.02)
        conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    for n, (invoice, (body, headers)) in enumerate(zip(invoices, bodies, strict=True)):
        delay = start + n / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[invoice["id"]] = time.perf_counter()
        post(url, body, headers)[1].raise_for_status()
    watcher.join(timeout=60)
    stop.set()
    watcher.join()
    latencies = [seen[i] - sent[i] for i in sent if i in seen]
    return summary(latencies) | {"missing": len(sent) - len(latencies)}


def bench_ours(env, demo_gateway, invoices, single):
    for invoice in invoices:
        body, _h = data.demo_payment(invoice, harness.DB, demo_gateway.webhook_secret)
        event = data.json.loads(body)
        env["paycrm.event"]._paycrm_store(demo_gateway, body, event)
    env.cr.commit()
    processor = env["paycrm.event"].with_context(paycrm_commit=True)
    each = [timed(processor._paycrm_process_batch, 1)[0] for _n in range(single)]
    batch_s, handled = timed(processor._paycrm_process_batch, len(invoices))
    assert handled == len(invoices) - single, handled
    return batch_s / handled, summary(each)


def bench_theirs(env, provider, invoices, single):
    txs = data.make_transactions(env, provider, len(invoices), "pp", invoices, True)
    records = env["payment.transaction"].browse([tx["id"] for tx in txs])
    each = []
    for tx in records[:single]:
        elapsed, _r = timed(tx._post_process)
        env.cr.commit()
        each.append(elapsed)
    rest = records[single:]
    batch_s, _r = timed(rest._post_process)
    env.cr.commit()
    paid = len(rest.invoice_ids.filtered(lambda m: m.payment_state != "not_paid"))
    assert paid == len(rest), f"{paid}/{len(rest)} invoices paid by their batch"
    return batch_s / len(rest), summary(each)


def bench_growth(env, demo_gateway, size):
    """``size`` partial payments on ``size / 10`` invoices: store, then process."""
    gen_s, invoices = timed(
        data.make_invoices,
        env,
        size // PARTIALS_PER_INVOICE,
        100.0 * PARTIALS_PER_INVOICE,
        f"g{size}",
    )
    start = time.perf_counter()
    for invoice in invoices:
        for _n in range(PARTIALS_PER_INVOICE):
            body, _h = data.demo_payment(
                invoice, harness.DB, demo_gateway.webhook_secret, minor=10000
            )
            env["paycrm.event"]._paycrm_store(demo_gateway, body, data.json.loads(body))
        env.cr.commit()
    store_s = time.perf_counter() - start
    processor = env["paycrm.event"].with_context(paycrm_commit=True)
    start, handled = time.perf_counter(), 0
    while batch := processor._paycrm_process_batch(500):
        handled += batch
    process_s = time.perf_counter() - start
    unpaid = env["account.move"].search_count(
        [("id", "in", [i["id"] for i in invoices]), ("payment_state", "!=", "paid")]
    )
    return {
        "size": size,
        "gen_s": gen_s,
        "store_ms": store_s / size * 1000,
        "process_ms": process_s / max(handled, 1) * 1000,
        "handled": handled,
        "unpaid": unpaid,
    }


# -------------------------------------------------------------------- main


def print_ingest(title, rows):
    print_table(
        title,
        ["events", "posts", "s", "posts/s", "events/s", "p50 ms", "p95 ms",
         "200 ok", "200 duplicate", "errors", "rows stored", "lost", "dup rows",
         *CPU_HEADERS],
        [
            [r["size"], r["posts"], r["elapsed"], r["posts_s"], r["events_s"],
             r["latency"]["median_ms"], r["latency"]["p95_ms"], r["ok"], r["dup"],
             r["errors"], r["stored"], max(0, r["size"] - r["stored"]),
             max(0, r["stored"] - r["size"]), *cpu_cells(r["cpu"], r["posts"])]
            for r in rows
        ],
    )  # fmt: skip


OUR_CRON = "paycrm_connector.ir_cron_paycrm_process_events"
THEIR_CRON = "payment.cron_post_process_payment_tx"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--ack", type=int, default=200, help="ack samples per side")
    parser.add_argument("--seconds", type=float, default=15.0, help="paced phase")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = os.environ.get("PAYCRM_BENCH_RESULTS", "bench/results")
    os.makedirs(results, exist_ok=True)
    sys.stdout = Tee(
        os.path.join(results, f"webhooks-{time.strftime('%Y%m%d-%H%M%S')}.md")
    )
    print(f"## Webhooks benchmark\n\nMachine: {machine()}; sizes {sizes}")
    install_payment_stripe()
    paced = int(args.seconds * RATE)
    with environment() as env:
        demo, ours = data.make_gateways(env)
        gateway_ids = (demo.id, ours.id, demo.webhook_secret)
        currency = env.ref("base.main_company").currency_id.name.lower()
        gen_s, paced_invoices = timed(
            data.make_invoices, env, paced + 2 * WARM_PAYMENTS, 100.0, "paced"
        )
        warm_invoices = paced_invoices[-WARM_PAYMENTS:]
        paced_invoices = paced_invoices[:-WARM_PAYMENTS]
        proc_invoices = data.make_invoices(
            env, PROCESS_SAMPLE + SINGLE_SAMPLE, 100.0, "po"
        )
        peer_invoices = data.make_invoices(
            env, PROCESS_SAMPLE + SINGLE_SAMPLE, 100.0, "pp"
        )
        booked_s, booked_invoices = timed(
            lambda: [
                data.make_invoices(env, size, 100.0, f"in{size}") for size in sizes
            ]
        )
    print(
        f"\nGenerated {paced} invoices in {gen_s:.1f} s (and 2 x "
        f"{PROCESS_SAMPLE + SINGLE_SAMPLE} for processing; {sum(sizes)} for "
        f"ingest with booking in {booked_s:.1f} s)"
    )
    demo_id, ours_id, secret = gateway_ids
    # Phases 1-2 measure intake alone: both sides' processing crons are off.
    set_cron(OUR_CRON, False)
    set_cron(THEIR_CRON, False)
    with OdooServer(workers=2) as server:
        ack = bench_ack(server, ours_id, args.ack, currency)
        print_table(
            f"Ack latency, sequential, --workers=2 ({ack['ours']['n']} each)",
            ["endpoint", "p50 ms", "p95 ms", "p50 / theirs",
             "p50 above floor ms", "above floor / theirs"],
            [ack_row(name, ack[key], ack) for name, key in (
                ("GET /web/health (floor)", "floor"),
                ("ours POST /paycrm/webhook (Stripe)", "ours"),
                ("theirs POST /payment/stripe/webhook", "theirs"),
            )],
        )  # fmt: skip
        ingest = [bench_ingest(server, ours_id, size, currency) for size in sizes]
        print_ingest(
            f"Sustained ingest, {THREADS} client threads, +{DUPLICATES:.0%} "
            "duplicates, processor off (Stripe events naming no invoice)",
            ingest,
        )
        set_cron(OUR_CRON, True)
        warm_processor(server, demo_id, secret, paced_invoices[:WARM_PAYMENTS])
        rec = bench_reconcile(server, demo_id, secret, paced_invoices[WARM_PAYMENTS:])
        print_table(
            f"Event -> invoice paid, demo events paced at {RATE:g}/s for "
            f"{args.seconds:g} s (cron on insert trigger, polled every 20 ms)",
            ["events", "p50 ms", "p95 ms", "not paid within 60 s"],
            [[rec["n"] + rec["missing"], rec["median_ms"], rec["p95_ms"],
              rec["missing"]]],
        )  # fmt: skip
    set_cron(OUR_CRON, False)
    with environment() as env:
        demo_gateway = env["paycrm.gateway"].browse(demo_id)
        ours_batch, ours_each = bench_ours(
            env, demo_gateway, proc_invoices, SINGLE_SAMPLE
        )
        provider = env.ref("payment.payment_provider_stripe")
        theirs_batch, theirs_each = bench_theirs(
            env, provider, peer_invoices, SINGLE_SAMPLE
        )
    print_table(
        f"Processing cost per payment reconciled ({PROCESS_SAMPLE} in a batch, "
        f"{SINGLE_SAMPLE} one at a time)",
        ["side", "batch ms/payment", "one at a time p50 ms", "p95 ms",
         "batch / theirs"],
        [
            ["ours _paycrm_process_batch (batched)", ours_batch * 1000,
             ours_each["median_ms"], ours_each["p95_ms"], ours_batch / theirs_batch],
            ["theirs payment.transaction._post_process", theirs_batch * 1000,
             theirs_each["median_ms"], theirs_each["p95_ms"], 1.0],
        ],
    )  # fmt: skip
    # After the processing costs: booking thousands of payments grows the
    # clearing journal and the customers' histories they are measured on.
    set_cron(OUR_CRON, True)
    with OdooServer(workers=2) as server:
        warm_processor(server, demo_id, secret, warm_invoices)
        booked = [
            bench_ingest_booked(server, demo_id, secret, invoices)
            for invoices in booked_invoices
        ]
        print_ingest(
            f"Sustained ingest, {THREADS} client threads, +{DUPLICATES:.0%} "
            "duplicates, processor on: one demo payment per invoice, booked "
            "while the posts go on",
            booked,
        )
        print_table(
            "... then until every event is booked (one cron worker, nice 10)",
            ["events", "queued when posts ended", "drain s", "booked/s overall",
             "events done", "not done", "invoices paid once", "entries booked",
             "cron CPU ms/event", "PostgreSQL"],
            [[r["size"], r["backlog"], r["drain_s"],
              r["size"] / (r["elapsed"] + r["drain_s"]), r["done"], r["not_done"],
              r["paid_once"], r["booked_moves"],
              (r["cpu"]["cron"] + r["drain_cpu"]["cron"]) * 1000 / r["size"],
              (r["cpu"]["pg"] + r["drain_cpu"]["pg"]) * 1000 / r["size"]]
             for r in booked],
        )  # fmt: skip
    set_cron(OUR_CRON, False)
    with environment() as env:
        demo_gateway = env["paycrm.gateway"].browse(demo_id)
        growth = [bench_growth(env, demo_gateway, size) for size in sizes]
    rows = []
    for r, i in zip(growth, ingest, strict=True):
        rows.append([r["size"], 1000 / i["events_s"], r["store_ms"], r["process_ms"],
                     r["handled"], r["unpaid"], r["gen_s"]])  # fmt: skip
    print_table(
        f"Growth: ingest (HTTP, above) and processing per event; "
        f"{PARTIALS_PER_INVOICE} partial payments per invoice",
        ["events", "ingest ms/event (8 threads)", "store in process ms/event",
         "process ms/event", "processed", "invoices not paid", "invoice generation s"],
        rows,
    )  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
