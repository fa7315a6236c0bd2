"""Catch-up sync benchmark: events no webhook delivered, listed and stored.

Run by ``make bench-sync`` (setup/bench.sh gives a throw-away database with
the addon). Sizes: ``--sizes 1000,10000`` (default; ``SIZES=1000`` to
shorten): at each size, ``size`` payments the webhooks missed.

For each size, on 127.0.0.1, bounded in count and time:
1. ``size`` posted invoices, each paid by a Stripe Checkout Session in the
   in-process Stripe stand-in (payment intent, charge, fee and the
   ``checkout.session.completed`` event it records, created over the last
   hour), plus 10 % more listed events: half of types the connector does not
   handle, half payments a webhook delivered (stored and booked before);
2. sync: ``paycrm.gateway._paycrm_sync_run(commit=True)`` as the cron runs
   it, the stand-in listing 100 events a page, 20 ms a page: time and SQL
   queries until every missed event is stored;
3. booking: the processor's cron method ``_cron_paycrm_process_events`` in
   this process, called until nothing is ready (each event fetches its
   payment intent from the stand-in, as from Stripe): time and queries;
4. the peer: the same payments on a fresh set of invoices, their events
   posted as signed webhooks to /paycrm/webhook/<id> of a real Odoo server
   (``--workers=2``, no cron thread, 8 client threads), then booked the same
   way (3), so both sides book alike and the ratio compares intakes;
5. correctness: every invoice paid once, every event stored once and done.

``--stored-only`` (``STORED_ONLY=1 make bench-sync``): no invoices and no
booking, so 10,000 fits in minutes. The stand-in lists ``size`` missed
``checkout.session.completed`` events (plus the same 5 % of unhandled types,
and 5 % the sync's own intake stored before), their metadata naming no real
invoice (unmatched if booked: only storing is measured); the webhook peer
posts ``size`` other such events, signed, to a real Odoo server as above.
The check: each side's events stored exactly once (by external id).

The stand-in runs in this process: its serving time (sorting and copying the
listed events) is shown per page beside the 20 ms it waits. Times to booked
are stored + booking, one after the other.
"""

import argparse
import json
import logging
import os
import sys
import time
from datetime import timedelta

import harness
from harness import (
    OdooServer,
    Tee,
    environment,
    machine,
    print_table,
    send_all,
    summary,
    timed,
)

from odoo import fields, sql_db
from odoo.tools import SQL

# The addon's modules import through odoo.addons: the config (addons path)
# must be parsed first.
harness.setup_odoo()
import webhook_data as data  # noqa: E402

# The Stripe SDK logs every request at INFO: one line per event booked.
logging.getLogger("stripe").setLevel(logging.WARNING)

PAGE_DELAY = 0.02
WINDOW = 3600  # seconds of events the sync catches up on
EXTRA_UNHANDLED = 0.05  # listed events of types the connector does not handle
EXTRA_DELIVERED = 0.05  # listed events a webhook stored (and booked) before
UNHANDLED_TYPES = ("payment_intent.created", "charge.succeeded")
SYNC_TIMEOUT = 1800.0
BOOK_TIMEOUT = 1800.0
WARM_POSTS = 20
EVENTS_PATH = "/v1/events"


class PagedStandin(data.standin.StripeStandin):
    """The Stripe stand-in, noting when each page of events is asked for and
    how long it takes to serve (its own work, besides ``page_delay``)."""

    def __init__(self):
        super().__init__()
        self.page_starts = []
        self.page_serving = []

    def handle(self, req):
        if req.method != "GET" or req.path != EVENTS_PATH:
            return super().handle(req)
        start = time.perf_counter()
        self.page_starts.append(start)
        answer = super().handle(req)
        self.page_serving.append(time.perf_counter() - start - self.page_delay)
        return answer


def queries():
    """SQL statements run so far by this process's Odoo cursors."""
    return sql_db.sql_counter


def seed_payments(standin, invoices, created=None):
    """Pay each invoice in the stand-in as Stripe would; return what
    ``complete_session`` made (session, intent, charge, recorded event).
    ``created``: one epoch second per invoice for its event (now if None)."""
    paid = []
    for n, invoice in enumerate(invoices):
        session = data.checkout_session(invoice, harness.DB)
        # Our links give the intent the invoice's metadata too.
        session["payment_intent_data"] = {"metadata": dict(session["metadata"])}
        standin.put("checkout.session", session)
        paid.append(
            standin.complete_session(
                session["id"], created=created[n] if created else None
            )
        )
    return paid


def store_delivered(env, gateway, paid):
    """What the webhooks did deliver before the outage: stored, then booked."""
    for item in paid:
        event = item["event"]
        env["paycrm.event"]._paycrm_store(gateway, json.dumps(event).encode(), event)
    env.cr.commit()
    book_all(env)


def book_all(env, timeout=BOOK_TIMEOUT):
    """Run the processor's cron method until nothing is ready; ``(seconds,
    queries, calls)``."""
    events = env["paycrm.event"]
    start, before, calls = time.perf_counter(), queries(), 0
    while time.perf_counter() - start < timeout:
        events._cron_paycrm_process_events()
        env.invalidate_all()
        calls += 1
        if not events.sudo()._paycrm_queue_ready_count():
            break
    return time.perf_counter() - start, queries() - before, calls


def side_state(env, gateway_id, first_event, from_sync):
    """Counts of this side's events (after ``first_event``) by state."""
    env.cr.execute(
        SQL(
            "SELECT state, count(*) FROM paycrm_event WHERE gateway_id = %s "
            "AND id > %s AND from_sync = %s GROUP BY state",
            gateway_id,
            first_event,
            from_sync,
        )
    )
    return dict(env.cr.fetchall())


def last_event_id(env):
    env.cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM paycrm_event"))
    return env.cr.fetchone()[0]


def seed_missed(standin, invoices, size):
    """Pay every invoice on the stand-in (events created over the last
    ``WINDOW``) and record events of types the connector does not handle for
    the first ``size * EXTRA_UNHANDLED``; return ``(now, seed seconds, paid,
    unhandled, events listed)``."""
    now = int(time.time())
    created = [now - WINDOW + n * WINDOW // len(invoices) for n in range(len(invoices))]
    seed_s, paid = timed(seed_payments, standin, invoices, created)
    unhandled = 0
    for n, item in enumerate(paid[: int(size * EXTRA_UNHANDLED)]):
        kind = UNHANDLED_TYPES[n % len(UNHANDLED_TYPES)]
        obj = (
            item["payment_intent"]
            if kind.startswith("payment_intent")
            else item["charge"]
        )
        standin.record_event(kind, obj, created=item["event"]["created"])
        unhandled += 1
    return now, seed_s, paid, unhandled, len(standin.objects["event"])


def run_sync(standin, gateway_id, listed):
    """One sync as the cron runs it (a commit per page), pages slowed to
    ``PAGE_DELAY``; return ``(outcome, start, end, queries, page seconds)``."""
    standin.page_delay = PAGE_DELAY
    with environment() as env:
        gateway = (
            env["paycrm.gateway"].with_context(paycrm_commit=True).browse(gateway_id)
        )
        before = queries()
        start = time.perf_counter()
        # Bounded in count: the pages the listed events fill, and two more.
        outcome = gateway._paycrm_sync_run(max_pages=listed // 100 + 2, commit=True)
        end = time.perf_counter()
        sync_queries = queries() - before
        assert end - start < SYNC_TIMEOUT, f"sync took {end - start:.0f} s"
        assert outcome["state"] == "ok", outcome
    standin.page_delay = 0.0
    starts = standin.page_starts
    pages = [b - a for a, b in zip(starts, [*starts[1:], end], strict=True)]
    return outcome, start, end, sync_queries, pages


def bench_sync(standin, gateway_id, invoices, delivered_invoices):
    """Steps 1-3 on the sync side; a result row."""
    size = len(invoices)
    now, seed_s, paid, unhandled, listed = seed_missed(
        standin, invoices + delivered_invoices, size
    )
    with environment() as env:
        gateway = env["paycrm.gateway"].browse(gateway_id)
        store_delivered(env, gateway, paid[size:])
        first_event = last_event_id(env)
        # The first sync starts a minute before the oldest missed event.
        gateway.sync_run_since = fields.Datetime.to_datetime("1970-01-01") + timedelta(
            seconds=now - WINDOW - 60
        )
    outcome, start, end, sync_queries, pages = run_sync(standin, gateway_id, listed)
    with environment() as env:
        stored = side_state(env, gateway_id, first_event, True)
    with environment() as env:
        book_s, book_queries, calls = book_all(env)
        booked = side_state(env, gateway_id, first_event, True)
    return {
        "size": size,
        "seed_s": seed_s,
        "listed": listed,
        "unhandled": unhandled,
        "delivered": len(delivered_invoices),
        "found": outcome["found"],
        "stored": sum(stored.values()),
        "stored_s": end - start,
        "stored_queries": sync_queries,
        "pages": summary(pages) | {"count": len(pages)},
        "serving": summary(standin.page_serving),
        "book_s": book_s,
        "book_queries": book_queries,
        "book_calls": calls,
        "states": booked,
    }


def bench_webhooks(standin, gateway_id, invoices):
    """Step 4: the same payments' events as signed webhooks, then booked."""
    size = len(invoices)
    seed_s, paid = timed(seed_payments, standin, invoices)
    secret = data.OUR_STRIPE_SECRET
    posts = []
    for item in paid:
        body = json.dumps(item["event"]).encode()
        posts.append((body, data.standin.signed_headers(body, secret)))
    with environment() as env:
        first_event = last_event_id(env)
    # No cron thread: the events wait for the same booking as the sync's.
    with OdooServer(workers=2, extra_args=["--max-cron-threads=0"]) as server:
        url = f"{server.url}/paycrm/webhook/{gateway_id}"
        # Warm both workers (registry, caches): refused signatures, nothing stored.
        warm = [(posts[0][0], {"Stripe-Signature": "t=1,v1=0"})] * WARM_POSTS
        for _s, answer in send_all(url, warm, threads=2)[1]:
            assert answer.status_code < 500, answer.text
        stored_s, results = send_all(url, posts)
    answers = [answer for _s, answer in results]
    with environment() as env:
        stored = side_state(env, gateway_id, first_event, False)
        book_s, book_queries, calls = book_all(env)
        booked = side_state(env, gateway_id, first_event, False)
    return {
        "size": size,
        "seed_s": seed_s,
        "stored": sum(stored.values()),
        "stored_s": stored_s,
        "ok": sum(a.status_code == 200 and a.text == "ok" for a in answers),
        "errors": sum(a.status_code != 200 for a in answers),
        "latency": summary([s for s, _a in results]),
        "book_s": book_s,
        "book_queries": book_queries,
        "book_calls": calls,
        "states": booked,
    }


FAKE_INVOICE_BASE = 2_000_000_000  # ids no account.move has


def fake_invoices(env, count, tag):
    """Plain invoice dicts like ``make_invoices``' for invoices that do not
    exist: the events they make are stored, never matched."""
    company = env.ref("base.main_company")
    currency = company.currency_id
    base = FAKE_INVOICE_BASE + tag * 100_000
    return [
        {
            "id": base + n,
            "name": f"NOINV/{tag}/{n:06d}",
            "company_id": company.id,
            "minor": 10_000,
            "currency": currency.name.lower(),
        }
        for n in range(count)
    ]


def stored_ids(env, gateway_id, first_event, from_sync):
    """{external id: times stored} of this side's events after ``first_event``."""
    env.cr.execute(
        SQL(
            "SELECT external_id, count(*) FROM paycrm_event WHERE gateway_id = %s "
            "AND id > %s AND from_sync = %s GROUP BY external_id",
            gateway_id,
            first_event,
            from_sync,
        )
    )
    return dict(env.cr.fetchall())


def check_stored(expected, stored):
    """``(lost, twice, extra)``: expected ids not stored, stored more than
    once, stored without being expected."""
    lost = sum(1 for ext in expected if ext not in stored)
    twice = sum(1 for n in stored.values() if n > 1)
    extra = len(set(stored) - set(expected))
    return lost, twice, extra


def bench_sync_stored(standin, gateway_id, size, tag):
    """Stored-only sync side: ``size`` missed events (plus unhandled types
    and some stored before), synced to all stored; a result row."""
    delivered = int(size * EXTRA_DELIVERED)
    with environment() as env:
        invoices = fake_invoices(env, size + delivered, tag)
    now, seed_s, paid, unhandled, listed = seed_missed(standin, invoices, size)
    with environment() as env:
        gateway = env["paycrm.gateway"].browse(gateway_id)
        first_event = last_event_id(env)
        # Stored before (by the sync's own intake), not booked.
        env["paycrm.event"]._paycrm_store_many(
            gateway,
            [
                (json.dumps(item["event"]).encode(), item["event"])
                for item in paid[size:]
            ],
            from_sync=True,
        )
        env.cr.commit()
        before_sync = last_event_id(env)
        gateway.sync_run_since = fields.Datetime.to_datetime("1970-01-01") + timedelta(
            seconds=now - WINDOW - 60
        )
    standin.page_starts.clear()
    standin.page_serving.clear()
    outcome, start, end, sync_queries, pages = run_sync(standin, gateway_id, listed)
    with environment() as env:
        stored = stored_ids(env, gateway_id, first_event, True)
        new_rows = sum(side_state(env, gateway_id, before_sync, True).values())
    expected = [item["event"]["id"] for item in paid]
    lost, twice, extra = check_stored(expected, stored)
    return {
        "size": size,
        "seed_s": seed_s,
        "listed": listed,
        "unhandled": unhandled,
        "delivered": delivered,
        "found": outcome["found"],
        "stored": new_rows,
        "stored_s": end - start,
        "stored_queries": sync_queries,
        "pages": summary(pages) | {"count": len(pages)},
        "serving": summary(standin.page_serving),
        "lost": lost,
        "twice": twice,
        "extra": extra,
    }


def bench_webhooks_stored(standin, gateway_id, size, tag):
    """Stored-only peer: ``size`` other such events POSTed, signed, to a
    real Odoo server until all are stored; a result row."""
    with environment() as env:
        invoices = fake_invoices(env, size, tag)
        first_event = last_event_id(env)
    seed_s, paid = timed(seed_payments, standin, invoices)
    secret = data.OUR_STRIPE_SECRET
    posts = []
    for item in paid:
        body = json.dumps(item["event"]).encode()
        posts.append((body, data.standin.signed_headers(body, secret)))
    with OdooServer(workers=2, extra_args=["--max-cron-threads=0"]) as server:
        url = f"{server.url}/paycrm/webhook/{gateway_id}"
        warm = [(posts[0][0], {"Stripe-Signature": "t=1,v1=0"})] * WARM_POSTS
        for _s, answer in send_all(url, warm, threads=2)[1]:
            assert answer.status_code < 500, answer.text
        stored_s, results = send_all(url, posts)
    answers = [answer for _s, answer in results]
    with environment() as env:
        stored = stored_ids(env, gateway_id, first_event, False)
    lost, twice, extra = check_stored([item["event"]["id"] for item in paid], stored)
    return {
        "size": size,
        "seed_s": seed_s,
        "stored": sum(stored.values()),
        "stored_s": stored_s,
        "ok": sum(a.status_code == 200 and a.text == "ok" for a in answers),
        "errors": sum(a.status_code != 200 for a in answers),
        "latency": summary([s for s, _a in results]),
        "lost": lost,
        "twice": twice,
        "extra": extra,
    }


def run_stored_only(sizes):
    """``--stored-only``: each size's sync and webhook peer, to all stored."""
    runs = []
    for tag, size in enumerate(sizes):
        standin = PagedStandin().start()
        try:
            with environment() as env:
                _demo, ours = data.make_gateways(env)
                ours.api_base_url = standin.url
                gateway_id = ours.id
            sync = bench_sync_stored(standin, gateway_id, size, 2 * tag)
            peer = bench_webhooks_stored(standin, gateway_id, size, 2 * tag + 1)
        finally:
            standin.stop()
        runs.append((sync, peer))
        print(
            f"{size}: sync stored in {sync['stored_s']:.2f} s, webhooks in "
            f"{peer['stored_s']:.2f} s "
            f"(ratio {sync['stored_s'] / peer['stored_s']:.2f}); sync "
            f"{sync['lost']} lost, {sync['twice']} twice; webhooks "
            f"{peer['lost']} lost, {peer['twice']} twice"
        )
        for side in (sync, peer):
            assert side["lost"] == 0 and side["twice"] == 0, side
    print_table(
        f"Stored only - catch-up sync to all stored: stand-in pages of 100, "
        f"{PAGE_DELAY * 1000:g} ms a page, _paycrm_sync_run(commit=True); "
        "events name no real invoice",
        ["missed events", "listed", "of which unhandled types",
         "already stored", "rows stored", "pages", "s to stored", "events/s",
         "page p50 ms", "page p95 ms", "stand-in serving ms/page",
         "ms/missed event", "queries/page", "queries/missed event", "check"],
        [[s["size"], s["listed"], s["unhandled"], s["delivered"], s["stored"],
          s["pages"]["count"], s["stored_s"], s["size"] / s["stored_s"],
          s["pages"]["median_ms"], s["pages"]["p95_ms"],
          s["serving"]["median_ms"], per_event_ms(s["stored_s"], s["size"]),
          s["stored_queries"] / s["pages"]["count"],
          s["stored_queries"] / s["size"],
          f"{s['lost']} lost, {s['twice']} twice"]
         for s, _p in runs],
    )  # fmt: skip
    print_table(
        "Stored only - webhook peer to all stored: as many such events posted "
        f"as signed webhooks, {harness.THREADS} client threads, --workers=2, "
        "no cron",
        ["events", "s to stored", "events/s", "post p50 ms", "post p95 ms",
         "200 ok", "errors", "rows stored", "ms/event", "check"],
        [[p["size"], p["stored_s"], p["size"] / p["stored_s"],
          p["latency"]["median_ms"], p["latency"]["p95_ms"], p["ok"],
          p["errors"], p["stored"], per_event_ms(p["stored_s"], p["size"]),
          f"{p['lost']} lost, {p['twice']} twice"]
         for _s, p in runs],
    )  # fmt: skip
    print_table(
        "Stored only - ratio sync / webhooks (s to stored)",
        ["events", "sync ms/event", "webhooks ms/event", "sync / webhooks"],
        [[s["size"], per_event_ms(s["stored_s"], s["size"]),
          per_event_ms(p["stored_s"], p["size"]), s["stored_s"] / p["stored_s"]]
         for s, p in runs],
    )  # fmt: skip
    if len(runs) > 1:
        (s0, p0), (s1, p1) = runs[0], runs[-1]
        n0, n1 = s0["size"], s1["size"]

        def growth(first, last, key):
            return (last[key] / n1) / (first[key] / n0)

        print_table(
            f"Stored only - growth of the per-event cost from {n0} to {n1} "
            "events (1.00 = linear)",
            ["side", "ms/event to stored", "queries/event"],
            [["sync", growth(s0, s1, "stored_s"), growth(s0, s1, "stored_queries")],
             ["webhooks", growth(p0, p1, "stored_s"), float("nan")]],
        )  # fmt: skip
    print(
        "\nSetup (not timed): "
        + "; ".join(
            f"{s['size']}: stand-in events {s['seed_s'] + p['seed_s']:.1f} s"
            for s, p in runs
        )
    )
    sys.stdout.flush()


def check(gateway_id, invoices):
    """Step 5: each invoice paid once, each event stored once; the counts."""
    ids = [invoice["id"] for invoice in invoices]
    with environment() as env:
        moves = env["account.move"].browse(ids)

        def received(move):
            # -1 short of its total (lost), 0 paid once, 1 more (booked twice).
            return move.currency_id.compare_amounts(
                move.paycrm_amount_received, move.amount_total
            )

        short = moves.filtered(lambda m: received(m) < 0)
        over = moves.filtered(lambda m: received(m) > 0)
        paid_once = moves.filtered(
            lambda m: m.payment_state in ("paid", "in_payment") and received(m) == 0
        )
        env.cr.execute(
            SQL(
                "SELECT count(*) FROM (SELECT external_id FROM paycrm_event "
                "WHERE gateway_id = %s GROUP BY external_id HAVING count(*) > 1) t",
                gateway_id,
            )
        )
        twice = env.cr.fetchone()[0]
    return {
        "invoices": len(ids),
        "paid_once": len(paid_once),
        "lost": len(short),
        "twice": twice + len(over),
    }


def per_event_ms(seconds, count):
    return seconds * 1000 / count if count else float("nan")


def run_size(size):
    standin = PagedStandin().start()
    try:
        delivered = int(size * EXTRA_DELIVERED)
        with environment() as env:
            _demo, ours = data.make_gateways(env)
            ours.api_base_url = standin.url
            gateway_id = ours.id
            gen_s, invoices = timed(
                data.make_invoices, env, 2 * size + delivered, 100.0, f"s{size}"
            )
        print(
            f"\n{size}: generated {len(invoices)} invoices in {gen_s:.1f} s "
            f"({size} synced, {delivered} delivered before, {size} by webhook)"
        )
        sync_invoices = invoices[:size]
        delivered_invoices = invoices[size : size + delivered]
        peer_invoices = invoices[size + delivered :]
        sync = bench_sync(standin, gateway_id, sync_invoices, delivered_invoices)
        peer = bench_webhooks(standin, gateway_id, peer_invoices)
        correct = check(gateway_id, invoices)
    finally:
        standin.stop()
    return sync, peer, correct


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="no invoices, no booking: sync and webhooks to all stored",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = os.environ.get("PAYCRM_BENCH_RESULTS", "bench/results")
    os.makedirs(results, exist_ok=True)
    sys.stdout = Tee(os.path.join(results, f"sync-{time.strftime('%Y%m%d-%H%M%S')}.md"))
    print(f"## Catch-up sync benchmark\n\nMachine: {machine()}; sizes {sizes}")
    # Odoo's own crons stay out of the way: this process runs the work.
    harness.set_cron("paycrm_connector.ir_cron_paycrm_sync_events", False)
    if args.stored_only:
        print("Mode: stored only (no invoices, no booking)")
        run_stored_only(sizes)
        return
    runs = []
    for size in sizes:
        sync, peer, correct = run_size(size)
        runs.append((sync, peer, correct))
        sync_total = sync["stored_s"] + sync["book_s"]
        peer_total = peer["stored_s"] + peer["book_s"]
        # A line per size as it ends: a run cut short still says something.
        print(
            f"{size}: sync stored in {sync['stored_s']:.2f} s, webhooks in "
            f"{peer['stored_s']:.2f} s "
            f"(ratio {sync['stored_s'] / peer['stored_s']:.2f}); "
            f"booked in {sync_total:.1f} s vs {peer_total:.1f} s (ratio "
            f"{sync_total / peer_total:.2f}); {correct['lost']} lost, "
            f"{correct['twice']} twice ({correct['paid_once']}/"
            f"{correct['invoices']} invoices paid once)"
        )
        assert correct["lost"] == 0 and correct["twice"] == 0, correct
        assert correct["paid_once"] == correct["invoices"], correct
    print_table(
        f"Catch-up sync to all stored: stand-in pages of 100, "
        f"{PAGE_DELAY * 1000:g} ms a page, _paycrm_sync_run(commit=True)",
        ["missed events", "listed", "of which unhandled types",
         "already stored", "stored", "pages", "s to stored", "events/s",
         "page p50 ms", "page p95 ms", "stand-in serving ms/page",
         "ms/missed event", "queries/page", "queries/missed event"],
        [[s["size"], s["listed"], s["unhandled"], s["delivered"], s["stored"],
          s["pages"]["count"], s["stored_s"], s["size"] / s["stored_s"],
          s["pages"]["median_ms"], s["pages"]["p95_ms"],
          s["serving"]["median_ms"], per_event_ms(s["stored_s"], s["size"]),
          s["stored_queries"] / s["pages"]["count"],
          s["stored_queries"] / s["size"]]
         for s, _p, _c in runs],
    )  # fmt: skip
    print_table(
        "Webhook peer to all stored: the same payments posted as signed "
        f"webhooks, {harness.THREADS} client threads, --workers=2, no cron",
        ["events", "s to stored", "events/s", "post p50 ms", "post p95 ms",
         "200 ok", "errors", "rows stored", "ms/event"],
        [[p["size"], p["stored_s"], p["size"] / p["stored_s"],
          p["latency"]["median_ms"], p["latency"]["p95_ms"], p["ok"],
          p["errors"], p["stored"], per_event_ms(p["stored_s"], p["size"])]
         for _s, p, _c in runs],
    )  # fmt: skip
    rows = []
    for s, p, c in runs:
        for name, r in (("sync", s), ("webhooks", p)):
            total = r["stored_s"] + r["book_s"]
            peer_total = p["stored_s"] + p["book_s"]
            rows.append([
                r["size"], name, r["stored_s"], r["book_s"], total,
                per_event_ms(r["book_s"], r["size"]),
                r["book_queries"] / r["size"],
                r["states"].get("done", 0),
                sum(v for k, v in r["states"].items() if k not in ("done", "ignored")),
                r["stored_s"] / p["stored_s"], total / peer_total,
                f"{c['lost']} lost, {c['twice']} twice",
            ])  # fmt: skip
    print_table(
        "To booked: stored, then _cron_paycrm_process_events in process until "
        "nothing is ready (each event fetches its payment intent from the "
        "stand-in); ratio sync / webhooks",
        ["events", "side", "s to stored", "s booking", "s to booked",
         "booking ms/event", "booking queries/event", "events done",
         "not done", "stored: sync / webhooks", "booked: sync / webhooks",
         "check"],
        rows,
    )  # fmt: skip
    if len(runs) > 1:
        (s0, p0, _c0), (s1, p1, _c1) = runs[0], runs[-1]
        n0, n1 = s0["size"], s1["size"]

        def growth(first, last, key):
            return (last[key] / n1) / (first[key] / n0)

        print_table(
            f"Growth of the per-event cost from {n0} to {n1} events "
            "(1.00 = linear)",
            ["side", "to stored", "booking", "stored queries/event",
             "booking queries/event"],
            [["sync", growth(s0, s1, "stored_s"), growth(s0, s1, "book_s"),
              growth(s0, s1, "stored_queries"), growth(s0, s1, "book_queries")],
             ["webhooks", growth(p0, p1, "stored_s"), growth(p0, p1, "book_s"),
              float("nan"), growth(p0, p1, "book_queries")]],
        )  # fmt: skip
    print(
        "\nSetup (not timed): "
        + "; ".join(
            f"{s['size']}: stand-in payments {s['seed_s'] + p['seed_s']:.1f} s"
            for s, p, _c in runs
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
