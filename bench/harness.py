"""Shared pieces for the benchmarks: Odoo environment, a real server, stats, table.

Benchmarks are scripts, not tests: `make bench-<name>` runs one against a
throw-away database (see setup/bench.sh, which sets ODOO_RC and PAYCRM_DB).
Every load they generate goes to 127.0.0.1 and is bounded in count and time.
"""

import contextlib
import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta

import psycopg2
import requests

import odoo
from odoo import fields
from odoo.tools import config

DB = os.environ.get("PAYCRM_DB", "")
# Client threads of send_all(): the load generator shares the server's cores.
THREADS = 8
# Set by start_autoanalyze(): how statistics are kept during the run.
STATISTICS = "autovacuum"


def setup_odoo():
    """Parse the Odoo config named by ODOO_RC once, before any registry use."""
    if not DB:
        sys.exit("PAYCRM_DB is not set: run through `make bench-<name>`")
    config.parse_config(["-c", os.environ["ODOO_RC"], "-d", DB, "--log-level=warn"])
    start_autoanalyze()


def connect():
    """A plain autocommit connection to the bench database, beside Odoo's."""
    conn = psycopg2.connect(
        dbname=DB,
        host=config["db_host"] or None,
        port=config["db_port"] or None,
        user=config["db_user"] or None,
    )
    conn.autocommit = True
    return conn


def start_autoanalyze():
    """Stand in for PostgreSQL's autovacuum when the server runs without it.

    This machine's PostgreSQL has ``autovacuum = off``: tables that grow from
    nothing to tens of thousands of rows during a run never get statistics, and
    the planner then sorts a whole journal to name each new entry (Odoo's
    sequence query) instead of reading one row of its index. So the bench does
    what autovacuum's launcher would, with the server's own settings: every
    ``autovacuum_naptime``, ANALYZE the tables changed by more than
    ``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` x
    their rows. Returns whether it runs.
    """
    conn = connect()
    with conn.cursor() as cr:
        cr.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', "
            "'autovacuum_naptime', 'autovacuum_analyze_threshold', "
            "'autovacuum_analyze_scale_factor')"
        )
        settings = dict(cr.fetchall())
    if settings["autovacuum"] == "on":
        conn.close()
        return False
    naptime = float(settings["autovacuum_naptime"])
    threshold = float(settings["autovacuum_analyze_threshold"])
    scale = float(settings["autovacuum_analyze_scale_factor"])

    def loop():
        with conn.cursor() as cr:
            while True:
                cr.execute(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) "
                    "FROM pg_stat_user_tables WHERE n_mod_since_analyze > "
                    "%s + %s * GREATEST(n_live_tup, 0)",
                    [threshold, scale],
                )
                for (table,) in cr.fetchall():
                    cr.execute(f"ANALYZE {table}")
                time.sleep(naptime)

    global STATISTICS  # noqa: PLW0603 - one run, one setting, read by the tables
    STATISTICS = f"autovacuum off here: its ANALYZE rule applied every {naptime:g} s"
    threading.Thread(target=loop, daemon=True, name="autoanalyze").start()
    return True


@contextlib.contextmanager
def environment(commit=True):
    """An ``env`` as superuser on the bench database; commits on success."""
    registry = odoo.modules.registry.Registry(DB)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        yield env
        if commit:
            cr.commit()
        else:
            cr.rollback()


def set_cron(xmlid, active):
    with environment() as env:
        # Next periodic run far away: while active, only a trigger starts it.
        env.ref(xmlid).write(
            {"active": active, "nextcall": fields.Datetime.now() + timedelta(days=1)}
        )


# ``python3 -m odoo`` through a launcher that parks the websocket process
# (see odoo_launch.py): ``-m odoo`` alone makes ``--workers`` respawn a broken one.
ODOO_CMD = [sys.executable, os.path.join(os.path.dirname(__file__), "odoo_launch.py")]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``python3 -m odoo`` serving the bench database on a free loopback port."""

    def __init__(
        self, workers=2, extra_args=(), log_path=None, db=None, config_path=None
    ):
        # db / config_path: for callers outside setup/bench.sh (the end-to-end
        # test serves the pytest-odoo database with its configuration file).
        self.db = db or DB
        self.config_path = config_path or os.environ["ODOO_RC"]
        self.port = free_port()
        self.workers = workers
        self.extra_args = list(extra_args)
        self.log_path = log_path or os.path.join(
            os.environ.get("PAYCRM_BENCH_RESULTS", "/tmp"), f"odoo-{self.port}.log"
        )
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        args = [
            *ODOO_CMD,
            "-c", self.config_path,
            # -d alone, no --db-filter: with a filter, Odoo lists the databases
            # on a new connection for every request without a session cookie
            # (a webhook's case), several ms of CPU a one-database server
            # does not spend.
            "-d", self.db,
            "--http-interface=127.0.0.1", f"--http-port={self.port}",
            # Its own websocket port too: 8072 may be taken by another server.
            f"--gevent-port={free_port()}",
            f"--workers={self.workers}", "--max-cron-threads=1",
            "--log-level=warn", f"--logfile={self.log_path}",
            "--limit-time-real=600", "--limit-time-cpu=600",
            *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(args)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited early, see {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Odoo did not answer within {timeout} s")

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Answer:
    """Status and text of one answer."""

    __slots__ = ("status_code", "text")

    def __init__(self, status_code, text):
        self.status_code = status_code
        self.text = text

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.text[:200]}")


def post(url, body, headers, method="POST"):
    """One request on its own connection; ``(seconds, Answer)``.

    Reading the whole body (Odoo sends a Content-Length) and closing at once
    matters: the worker waits for the client to close (werkzeug drains the
    socket for up to 10 ms) before it takes the next connection.
    """
    host, _sep, path = url.removeprefix("http://").partition("/")
    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.request(method, "/" + path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return time.perf_counter() - start, Answer(response.status, text)


def send_all(url, posts, threads=THREADS):
    """Post ``posts`` (``(body, headers)`` pairs) from ``threads`` client
    threads; ``(seconds, results)``, one ``(seconds, Answer)`` per post."""
    items = iter(posts)
    lock = threading.Lock()
    results = []

    def worker():
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            results.append(post(url, *item))

    pool = [threading.Thread(target=worker) for _n in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start, results


def percentile(samples, pct):
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples):
    """Median and p95 of a list of seconds, in milliseconds."""
    return {
        "median_ms": statistics.median(samples) * 1000 if samples else float("nan"),
        "p95_ms": percentile(samples, 95) * 1000,
        "n": len(samples),
    }


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def print_table(title, headers, rows):
    """A plain Markdown table, so it pastes into the README as is."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(f"\n### {title}\n")

    def line(values):
        padded = (v.ljust(w) for v, w in zip(values, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def _fmt(value):
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


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
        f"{os.cpu_count()} CPU ({model}), load {load:.2f}, "
        f"{platform.python_version()}, statistics: {STATISTICS}"
    )
