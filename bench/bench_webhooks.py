"""Webhook benchmark: our /paycrm/webhook against Odoo's own payment_stripe.

Run by ``make bench-webhooks`` (setup/bench.sh gives a throw-away database with
the addon; this script adds Odoo's ``payment_stripe`` to it so both coexist).
Sizes: ``--sizes 1000,10000`` (default) for ingest and processing growth.

Phases, all on 127.0.0.1, bounded in count and time:
1. ack latency, sequential, interleaved floor / ours / theirs, ``--workers=2``;
2. sustained ingest, 8 client threads, 10 % duplicates (processor cron off);
3. event -> invoice reconciled, demo events paced at 20/s, cron triggered;
4. processing cost per payment, in process: ours vs their ``_post_process``;
5. processing growth: partial payments, 10 per invoice, at each size.
"""

import argparse
import os
import platform
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import harness
import psycopg2
import requests
from harness import OdooServer, environment, print_table, summary, timed

from odoo import fields
from odoo.tools import SQL, config

# The addon's modules import through odoo.addons: the config (addons path)
# must be parsed first. The registry itself loads later, after installing
# payment_stripe.
harness.setup_odoo()
import webhook_data as data  # noqa: E402

THREADS = 8
DUPLICATES = 0.10
RATE = 20.0
PROCESS_SAMPLE = 300
SINGLE_SAMPLE = 20
PARTIALS_PER_INVOICE = 10
FAKE_INVOICE = {"id": 0, "name": "INV/NONE", "company_id": 1, "minor": 10000}


class Tee:
    """Print to the terminal and to the results file."""

    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.stdout = sys.stdout

    def write(self, text):
        self.stdout.write(text)
        self.file.write(text)

    def flush(self):
        self.stdout.flush()
        self.file.flush()


def machine():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPU ({model}), load {load:.2f}, {platform.python_version()}"
    )


def install_payment_stripe():
    subprocess.run(
        [*harness.ODOO_CMD, "-c", os.environ["ODOO_RC"], "-d", harness.DB]
        + ["-i", "payment_stripe", "--stop-after-init", "--no-http"]
        + ["--log-level=warn"],
        check=True,
    )


def set_cron(xmlid, active):
    with environment() as env:
        # Next periodic run far away: while active, only a trigger starts it.
        env.ref(xmlid).write(
            {"active": active, "nextcall": fields.Datetime.now() + timedelta(days=1)}
        )


def post(session, url, body, headers):
    start = time.perf_counter()
    answer = session.post(url, data=body, headers=headers, timeout=60)
    return time.perf_counter() - start, answer


# ------------------------------------------------------------------ phases


def bench_ack(server, ours, count, currency):
    with environment() as env:
        provider = data.make_provider(env)
        txs = data.make_transactions(env, provider, count + 10, "ack")
    fake = dict(FAKE_INVOICE, currency=currency)
    ours_url = f"{server.url}/paycrm/webhook/{ours}"
    theirs_url = f"{server.url}/payment/stripe/webhook"
    samples = {"floor": [], "ours": [], "theirs": []}
    session = requests.Session()
    for n, tx in enumerate(txs):
        start = time.perf_counter()
        session.get(f"{server.url}/web/health", timeout=60).raise_for_status()
        floor = time.perf_counter() - start
        our_s, answer = post(session, ours_url, *data.checkout_completed(fake, "x"))
        assert answer.text == "ok", answer.text
        body, headers = data.intent_succeeded(tx["reference"], 10000, currency)
        their_s, answer = post(session, theirs_url, body, headers)
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


def bench_ingest(server, ours, size, currency):
    fake = dict(FAKE_INVOICE, currency=currency)
    unique = [data.checkout_completed(fake, "x") for _n in range(size)]
    rng = random.Random(size)
    posts = unique + rng.sample(unique, int(size * DUPLICATES))
    rng.shuffle(posts)
    url = f"{server.url}/paycrm/webhook/{ours}"
    local = threading.local()

    def send(item):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return post(local.session, url, *item)

    with environment() as env:
        before = env["paycrm.event"].search_count([])
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(send, posts))
    elapsed = time.perf_counter() - start
    answers = [answer for _s, answer in results]
    with environment() as env:
        stored = env["paycrm.event"].search_count([]) - before
        # Keep the rows (the store grows as in production) but out of the
        # queue: they name no invoice of this database.
        env.cr.execute(
            SQL("UPDATE paycrm_event SET state = 'ignored' WHERE state = 'received'")
        )
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


def bench_reconcile(server, demo, secret, invoices):
    url = f"{server.url}/paycrm/webhook/{demo}"
    bodies = [data.demo_payment(inv, harness.DB, secret) for inv in invoices]
    sent, seen = {}, {}
    stop = threading.Event()

    def watch():
        conn = psycopg2.connect(
            dbname=harness.DB,
            host=config["db_host"],
            port=config["db_port"],
            user=config["db_user"],
        )
        conn.autocommit = True
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
    session = requests.Session()
    start = time.perf_counter()
    for n, (invoice, (body, headers)) in enumerate(zip(invoices, bodies, strict=True)):
        delay = start + n / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[invoice["id"]] = time.perf_counter()
        post(session, url, body, headers)[1].raise_for_status()
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
        gen_s, paced_invoices = timed(data.make_invoices, env, paced, 100.0, "paced")
        proc_invoices = data.make_invoices(
            env, PROCESS_SAMPLE + SINGLE_SAMPLE, 100.0, "po"
        )
        peer_invoices = data.make_invoices(
            env, PROCESS_SAMPLE + SINGLE_SAMPLE, 100.0, "pp"
        )
    print(
        f"\nGenerated {paced} invoices in {gen_s:.1f} s (and 2 x "
        f"{PROCESS_SAMPLE + SINGLE_SAMPLE} for processing)"
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
        print_table(
            f"Sustained ingest, {THREADS} client threads, "
            f"+{DUPLICATES:.0%} duplicates, processor off",
            ["events", "posts", "s", "posts/s", "events/s", "p50 ms", "p95 ms",
             "200 ok", "200 duplicate", "errors", "rows stored", "lost", "dup rows"],
            [
                [r["size"], r["posts"], r["elapsed"], r["posts_s"], r["events_s"],
                 r["latency"]["median_ms"], r["latency"]["p95_ms"], r["ok"], r["dup"],
                 r["errors"], r["stored"], max(0, r["size"] - r["stored"]),
                 max(0, r["stored"] - r["size"])]
                for r in ingest
            ],
        )  # fmt: skip
        set_cron(OUR_CRON, True)
        rec = bench_reconcile(server, demo_id, secret, paced_invoices)
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
