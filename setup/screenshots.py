#!/usr/bin/env python3
"""Screenshots of the main staff screens, for the app's description page.

Drives headless Chromium (DevTools protocol) against a running demo server:

    PAYCRM_DB=paycrm_walk_c PAYCRM_HTTP_PORT=8093 setup/run.sh &
    python3 setup/screenshots.py --url http://127.0.0.1:8093 --db paycrm_walk_c

It pays one demo invoice through its stable link as a customer would (so the
invoice, the events list and the profile show a real gateway payment), then
saves desktop (1440x900) PNGs as
``paycrm_connector/static/description/screenshot_staff_<screen>.png``.
"""

import argparse
import base64
import io
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "paycrm_connector" / "static" / "description"
MAX_BYTES = 300 * 1024
WIDTH, HEIGHT = 1440, 900
# The page is ready when the action's view is rendered and nothing is loading.
READY = (
    "!!document.querySelector('.o_action_manager .o_view_controller') && "
    "!document.querySelector('.o_loading_indicator, .o_blockUI')"
)


class Odoo:
    """JSON-RPC as a logged-in user (the session cookie goes to Chromium)."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self._ids = itertools.count(1)
        self._rpc(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        self.session_id = self.http.cookies["session_id"]

    def _rpc(self, path, params):
        answer = self.http.post(
            self.url + path,
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": params,
                "id": next(self._ids),
            },
            timeout=60,
        ).json()
        if answer.get("error"):
            raise RuntimeError(json.dumps(answer["error"], indent=1)[:2000])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._rpc(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        return rows[0]["res_id"]


def customer_pays(odoo, invoice_id):
    """Follow the invoice's stable link anonymously and pay on the demo page."""
    (invoice,) = odoo.call("account.move", "read", [invoice_id], ["paycrm_link_url"])
    customer = requests.Session()
    page = customer.get(invoice["paycrm_link_url"], timeout=60)
    page.raise_for_status()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'action="([^"]*/submit)"', page.text)
    submit = action.group(1) if action else page.url.split("?")[0] + "/submit"
    if submit.startswith("/"):
        submit = odoo.url + submit
    customer.post(
        submit, data={"csrf_token": csrf, "outcome": "pay"}, timeout=60
    ).raise_for_status()
    for _try in range(60):  # the processor cron books it within seconds
        (invoice,) = odoo.call("account.move", "read", [invoice_id], ["payment_state"])
        if invoice["payment_state"] in ("paid", "in_payment"):
            return
        time.sleep(1)
    raise RuntimeError("the demo payment was not booked")


class Chromium:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="paycrm_shots_")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _try in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def wait(self, expression, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.25)
        raise RuntimeError(f"timeout waiting for {expression}")

    def open(self, url, ready=READY):
        self.send("Page.navigate", url=url)
        time.sleep(0.5)
        self.wait(f"document.readyState === 'complete' && ({ready})")
        time.sleep(1.0)  # fonts, chatter and lazy widgets settle

    def shot(self, path):
        self.evaluate("document.activeElement && document.activeElement.blur()")
        data = base64.b64decode(
            self.send("Page.captureScreenshot", format="png")["data"]
        )
        image = Image.open(io.BytesIO(data)).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        if buffer.tell() > MAX_BYTES:
            buffer = io.BytesIO()
            image.quantize(256, method=Image.Quantize.MEDIANCUT).save(
                buffer, "PNG", optimize=True
            )
        path.write_bytes(buffer.getvalue())
        print(f"{path.relative_to(ROOT)}: {buffer.tell() // 1024} KB")

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8093")
    parser.add_argument("--db", default="paycrm_walk_c")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    odoo = Odoo(args.url, args.db, args.login, args.password)
    gateway_id = odoo.call(
        "paycrm.gateway", "search", [("provider", "=", "demo")], limit=1
    )[0]
    invoices = odoo.call(
        "account.move",
        "search",
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "=", "not_paid"),
            ("paycrm_gateway_id", "=", gateway_id),
        ],
        order="amount_total desc",
    )
    paid_id = invoices[0]
    customer_pays(odoo, paid_id)
    event_id = odoo.call(
        "paycrm.event", "search", [("invoice_id", "=", paid_id)], limit=1
    )[0]
    (paid,) = odoo.call("account.move", "read", [paid_id], ["partner_id"])
    policy_id = odoo.call("paycrm.reminder.policy", "search", [], limit=1)[0]

    base = f"{odoo.url}/odoo"
    screens = [
        (
            "invoice",
            f"{base}/action-account.action_move_out_invoice_type/{paid_id}",
            "paycrm_online_payment",
        ),
        (
            "gateway",
            f"{base}/action-paycrm_connector.paycrm_gateway_action/{gateway_id}",
            None,
        ),
        ("events", f"{base}/action-paycrm_connector.paycrm_event_action", None),
        (
            "event",
            f"{base}/action-paycrm_connector.paycrm_event_action/{event_id}",
            None,
        ),
        (
            "reminder_policy",
            f"{base}/action-paycrm_connector.paycrm_reminder_policy_action/{policy_id}",
            None,
        ),
        (
            "customer_profile",
            f"{base}/action-account.res_partner_action_customer/{paid['partner_id'][0]}",
            "paycrm_profile",
        ),
    ]
    browser = Chromium(args.chromium)
    try:
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=odoo.session_id,
            url=odoo.url,
            path="/",
        )
        for name, url, tab in screens:
            browser.open(url)
            if tab:
                browser.evaluate(
                    f"document.querySelector(\".o_notebook .nav-link[name='{tab}']\")"
                    ".click()"
                )
                time.sleep(1.0)
            browser.shot(OUT / f"screenshot_staff_{name}.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
