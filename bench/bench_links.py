"""Payment-link benchmark (not a test): run with ``make bench-links``.

1. Sending links for posted invoices (email channel, chunks of 50 as the list
   action does): Odoo-side cost per invoice, for 100 and 1,000 invoices (growth),
   with the number of gateway calls made (must be 0). Peer: Odoo's own invoice
   email template (without its PDF) mass-mailed by the same composer.
2. Click -> 303 on the stable URL through Odoo's real HTTP stack, with the local
   Stripe stand-in answering after a fixed 50 ms. Peer: the same Checkout Session
   create made directly through the Stripe SDK. Our overhead = click - direct call.
   Also: a second click (session reused, no gateway call) and eight parallel
   clicks on one invoice (real separate transactions: must create one session).

Environment (set by setup/bench.sh): ODOO_RC, PAYCRM_DB, PAYCRM_BENCH_RESULTS.
Options: BENCH_SEND_N (default 1000), BENCH_CLICKS (default 200).
"""

import json
import os
import platform
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
import standins
from werkzeug.serving import make_server

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

SEND_N = int(os.environ.get("BENCH_SEND_N", "1000"))
CLICKS = int(os.environ.get("BENCH_CLICKS", "200"))
STANDIN_DELAY = 0.050
PARALLEL = 8


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stats(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def setup_odoo(db):
    port = free_port()
    config.parse_config(
        [
            "-c",
            os.environ["ODOO_RC"],
            "-d",
            db,
            "--db-filter",
            f"^{db}$",
            "--http-port",
            str(port),
            "--log-level",
            "warn",
            "--max-cron-threads",
            "0",
        ]
    )
    odoo.service.server.load_server_wide_modules()
    registry = odoo.modules.registry.Registry(db)
    server = make_server("127.0.0.1", port, odoo.http.root, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return registry, server, f"http://127.0.0.1:{port}"


def make_invoices(env, partner, count, label):
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [
                    odoo.Command.create(
                        {"name": f"{label} {i}", "quantity": 1, "price_unit": 100 + i}
                    )
                ],
            }
            for i in range(count)
        ]
    )
    moves.action_post()
    return moves


CHUNK = 50


def time_chunks(env, moves, func):
    """Per-invoice ms of ``func`` run on chunks of CHUNK invoices (flush included)."""
    samples = []
    for i in range(0, len(moves), CHUNK):
        chunk = moves[i : i + CHUNK]
        start = time.perf_counter()
        func(chunk)
        env.flush_all()
        samples.append((time.perf_counter() - start) * 1000 / len(chunk))
    return samples


def mass_mail(env, moves, template):
    """Odoo's own mass-mail composer, as its list 'Send' does for a template."""
    env["mail.compose.message"].create(
        {
            "composition_mode": "mass_mail",
            "model": "account.move",
            "res_ids": moves.ids,
            "template_id": template.id,
            "auto_delete_keep_log": True,
        }
    )._action_send_mail()


def bench_send(registry, standin, rows):
    for count in (100, SEND_N) if SEND_N > 100 else (SEND_N,):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].search([("name", "=", "Bench Customer")])
            moves = make_invoices(env, partner, count, "send")
            cr.commit()
            calls_before = len(standin.requests)
            ours = time_chunks(
                env,
                moves,
                lambda c: c.env["paycrm.link.sender"]._paycrm_send_link(c, "email"),
            )
            calls = len(standin.requests) - calls_before
            template = env.ref("account.email_template_edi_invoice")
            # No wkhtmltopdf here, and the PDF is not what is compared: drop it
            # (rolled back with the rest of this transaction).
            template.report_template_ids = False
            peer = time_chunks(
                env, moves, lambda c, e=env, t=template: mass_mail(e, c, t)
            )
            cr.rollback()
        rows.append(("send link (email)", count, ours, peer, f"gateway calls: {calls}"))


def bench_clicks(registry, base_url, standin, rows):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        partner = env["res.partner"].search([("name", "=", "Bench Customer")])
        moves = make_invoices(env, partner, CLICKS + 1, "click")
        url_model = env["paycrm.link.url"]
        paths = [urlsplit(url_model._paycrm_pay_url(m)).path for m in moves]
        gateway = env["paycrm.gateway"].search([("name", "=", "Bench Stripe")])
        config = gateway._paycrm_config()
        cr.commit()
    session = requests.Session()
    session.get(f"{base_url}{paths[-1]}", allow_redirects=False, timeout=30)  # warm
    standin.delay = STANDIN_DELAY
    first, second = [], []
    for path in paths[:CLICKS]:
        start = time.perf_counter()
        response = session.get(f"{base_url}{path}", allow_redirects=False, timeout=30)
        first.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 303, response.status_code
        start = time.perf_counter()
        response = session.get(f"{base_url}{path}", allow_redirects=False, timeout=30)
        second.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 303, response.status_code
    direct = []
    from odoo.addons.paycrm_connector.gateways import CheckoutRequest, get_adapter

    for i in range(CLICKS):
        request = CheckoutRequest(
            invoice_id=i,
            invoice_name=f"DIRECT/{i}",
            amount_minor=10000 + i,
            currency="USD",
            success_url=f"{base_url}/done",
            cancel_url=f"{base_url}/cancel",
            expires_at=int(time.time()) + 3600,
            idempotency_key=f"bench-direct-{time.time_ns()}-{i}",
            customer_email="bench@example.com",
            metadata={"paycrm_invoice_id": i},
        )
        start = time.perf_counter()
        # A new adapter per call, as each click builds one (fresh connection).
        get_adapter(config).create_checkout(request)
        direct.append((time.perf_counter() - start) * 1000)
    overhead = [a - statistics.median(direct) for a in first]
    rows.append(
        ("click -> 303, new session", CLICKS, first, direct, "peer: direct SDK")
    )
    rows.append(("click -> 303, reused", CLICKS, second, direct, "no gateway call"))
    rows.append(("our overhead (click - SDK)", CLICKS, overhead, None, ""))
    standin.delay = 0.0


def check_parallel(registry, base_url, standin):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        partner = env["res.partner"].search([("name", "=", "Bench Customer")])
        move = make_invoices(env, partner, 1, "parallel")
        path = urlsplit(env["paycrm.link.url"]._paycrm_pay_url(move)).path
        url = f"{base_url}{path}"
        cr.commit()
    standin.delay = 0.2
    before = sum(1 for r in standin.requests if r.path == "/v1/checkout/sessions")
    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(
            pool.map(
                lambda _i: requests.get(url, allow_redirects=False, timeout=60),
                range(PARALLEL),
            )
        )
    standin.delay = 0.0
    created = sum(1 for r in standin.requests if r.path == "/v1/checkout/sessions")
    locations = {r.headers.get("Location") for r in responses}
    return {
        "statuses": sorted({r.status_code for r in responses}),
        "sessions_created": created - before,
        "distinct_locations": len(locations),
    }


def prepare(registry, base_url, standin):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("web.base.url", base_url)
        company = env.company
        gateway = env["paycrm.gateway"].create(
            {
                "name": "Bench Stripe",
                "provider": "stripe",
                "company_id": company.id,
                "secret_key": "sk_test_bench",
                "api_base_url": standin.url,
                "max_network_retries": 0,
            }
        )
        company.paycrm_gateway_id = gateway
        partner = env["res.partner"].create(
            {"name": "Bench Customer", "email": "bench@example.com"}
        )
        partner._paycrm_ensure_customer(gateway)
        cr.commit()


def print_table(rows, parallel):
    header = (
        f"{'measure':<28} {'n':>5} {'median ms':>10} {'p95 ms':>8} "
        f"{'peer med':>9} {'ratio':>6}  note"
    )
    print(header)
    print("-" * len(header))
    for name, count, ours, peer, note in rows:
        med, p95 = stats(ours)
        if peer:
            peer_med = statistics.median(peer)
            print(
                f"{name:<28} {count:>5} {med:>10.2f} {p95:>8.2f} {peer_med:>9.2f} "
                f"{med / peer_med:>6.2f}  {note}"
            )
        else:
            blank = ""
            print(
                f"{name:<28} {count:>5} {med:>10.2f} {p95:>8.2f} "
                f"{blank:>9} {blank:>6}  {note}"
            )
    sends = [r for r in rows if r[0].startswith("send")]
    if len(sends) == 2:
        small, large = (statistics.median(r[2]) for r in sends)
        print(
            f"growth send {sends[0][1]} -> {sends[1][1]}: "
            f"x{large / small:.2f} per invoice"
        )
    print(f"parallel clicks ({PARALLEL} at once, one invoice): {parallel}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPU, Python "
        f"{platform.python_version()}, stand-in delay {STANDIN_DELAY * 1000:.0f} ms"
    )


def load_standin():
    return standins.load("stripe_standin").StripeStandin


def main():
    db = os.environ["PAYCRM_DB"]
    registry, server, base_url = setup_odoo(db)
    StripeStandin = load_standin()

    standin = StripeStandin().start()
    try:
        prepare(registry, base_url, standin)
        rows = []
        bench_send(registry, standin, rows)
        bench_clicks(registry, base_url, standin, rows)
        parallel = check_parallel(registry, base_url, standin)
        print_table(rows, parallel)
        results = Path(os.environ.get("PAYCRM_BENCH_RESULTS", "bench/results"))
        results.mkdir(parents=True, exist_ok=True)
        summary = {
            name: {"n": n, "median_ms": stats(ours)[0], "p95_ms": stats(ours)[1]}
            for name, n, ours, _peer, _note in rows
        }
        summary["parallel"] = parallel
        (results / "bench_links.json").write_text(json.dumps(summary, indent=2))
        ok = parallel["sessions_created"] == 1 and parallel["distinct_locations"] == 1
        return 0 if ok else 1
    finally:
        standin.stop()
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
