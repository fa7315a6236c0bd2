"""End to end on a real multi-process server: webhook in, invoice paid, no manual step.

pytest-odoo holds the test database's registry in this process, so the data the
server must see is created and removed with real committed cursors, and Odoo runs
beside it as ``python3 -m odoo --workers=2`` (two HTTP workers and a cron worker,
separate processes) on a free loopback port. Only the signed webhook is sent by
hand, as the gateway would; the processor runs because the insert triggered it.
"""

import contextlib
import json
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import odoo
from odoo import Command, fields
from odoo.tools import config

from odoo.addons.paycrm_connector.gateways import DemoAdapter, signature
from odoo.addons.paycrm_connector.gateways.demo import demo_fee

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from harness import OdooServer  # noqa: E402  (bench/ is not a package)

WAIT_S = 30.0
AMOUNTS = (100.0, 250.0, 720.0)


@contextlib.contextmanager
def committed_env():
    """Superuser env on a real cursor of the test database, committed on exit."""
    registry = odoo.modules.registry.Registry(config["db_name"])
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.commit()


def wait_for(check, timeout=WAIT_S):
    """Poll ``check(env)`` on fresh cursors until truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        with committed_env() as env:
            value = check(env)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _create_data():
    with committed_env() as env:
        company = env.ref("base.main_company")
        default_before = company.paycrm_gateway_id.id
        gateway = env["paycrm.gateway"].create(
            {"name": "Demo e2e", "provider": "demo", "company_id": company.id}
        )
        partner = env["res.partner"].create({"name": "E2E Customer"})
        invoices = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
                for amount in AMOUNTS
            ]
        )
        invoices.action_post()
        # Its periodic run far away: only the trigger on insert can start it.
        cron = env.ref("paycrm_connector.ir_cron_paycrm_process_events")
        nextcall_before = cron.nextcall
        cron.nextcall = fields.Datetime.now() + timedelta(days=1)
        return {
            "nextcall_before": nextcall_before,
            "gateway_id": gateway.id,
            "secret": gateway.webhook_secret,
            "journal_id": gateway.journal_id.id,
            "partner_id": partner.id,
            "invoices": [
                {
                    "id": inv.id,
                    "name": inv.name,
                    "minor": round(inv.amount_total * 100),
                    "currency": inv.currency_id.name.lower(),
                    "token": inv.access_token,
                }
                for inv in invoices
            ],
            "company_id": company.id,
            "default_before": default_before,
        }


def _remove_data(data):
    with committed_env() as env:
        gateway = env["paycrm.gateway"].browse(data["gateway_id"]).exists()
        journal = env["account.journal"].browse(data["journal_id"]).exists()
        invoices = env["account.move"].browse([i["id"] for i in data["invoices"]])
        moves = invoices.exists()
        if journal:
            moves |= env["account.move"].search([("journal_id", "=", journal.id)])
        moves.line_ids.remove_move_reconcile()
        # Gateway payments go with their entries (a payment never outlives
        # its entry).
        payments = env["account.payment"].search([("move_id", "in", moves.ids)])
        payments.action_draft()
        payments.unlink()
        moves = moves.exists()
        moves.filtered(lambda m: m.state == "posted").button_draft()
        moves.with_context(force_delete=True).unlink()
        env["paycrm.event"].search([("gateway_id", "=", gateway.id)]).unlink()
        env["mail.activity"].search(
            [("res_model", "=", "account.move"), ("res_id", "in", invoices.ids)]
        ).unlink()
        if gateway:
            gateway.company_id.paycrm_gateway_id = data["default_before"] or False
            gateway.unlink()
        if journal:
            account = journal.default_account_id
            journal.unlink()
            account.unlink()
        env["res.partner"].browse(data["partner_id"]).unlink()
        cron = env.ref("paycrm_connector.ir_cron_paycrm_process_events")
        cron.nextcall = data["nextcall_before"]


@pytest.fixture(scope="module")
def data():
    values = _create_data()
    yield values
    _remove_data(values)


@pytest.fixture(scope="module")
def server(data, tmp_path_factory):
    log = tmp_path_factory.mktemp("odoo") / "odoo-workers.log"
    try:
        odoo_server = OdooServer(
            workers=2,
            log_path=str(log),
            db=config["db_name"],
            config_path=config.rcfile,
        )
    except OSError as exc:
        pytest.skip(f"cannot bind a loopback port for Odoo: {exc}")
    odoo_server.start()
    yield odoo_server
    odoo_server.stop()


def _payment_event(data, invoice, event_id=None):
    return DemoAdapter.build_event(
        "payment.succeeded",
        {
            "id": f"demo_pay_e2e_{invoice['id']}",
            "object": "payment",
            "session": f"demo_cs_e2e_{invoice['id']}",
            "amount": invoice["minor"],
            "currency": invoice["currency"],
            "fee": demo_fee(invoice["minor"]),
            "status": "succeeded",
            "metadata": {
                "paycrm_invoice_id": str(invoice["id"]),
                "paycrm_invoice_name": invoice["name"],
                "paycrm_company_id": str(data["company_id"]),
                "paycrm_db": config["db_name"],
                "paycrm_link_id": "",
            },
        },
        event_id=event_id,
    )


def _post(server, data, event):
    body = json.dumps(event).encode()
    headers = {
        "Paycrm-Signature": signature.header(body, data["secret"]),
        "Content-Type": "application/json",
    }
    return requests.post(
        f"{server.url}/paycrm/webhook/{data['gateway_id']}",
        data=body,
        headers=headers,
        timeout=WAIT_S,
    )


def _invoice_state(invoice_id, settled=True):
    def check(env):
        invoice = env["account.move"].browse(invoice_id)
        events = env["paycrm.event"].search([("invoice_id", "=", invoice_id)])
        if invoice.payment_state != "paid" or (
            settled and "received" in events.mapped("state")
        ):
            return None
        return {
            "residual": invoice.amount_residual,
            "received": invoice.paycrm_amount_received,
            "events": sorted(events.mapped("state")),
            "moves": len(events.move_id),
        }

    return check


def _assert_paid_once(server, invoice):
    """The invoice is paid in full by one booked event, within WAIT_S."""
    state = wait_for(_invoice_state(invoice["id"]))
    assert state, f"invoice not paid within {WAIT_S} s:\n{server.log_tail()}"
    assert state == {
        "residual": 0.0,
        "received": invoice["minor"] / 100,
        "events": ["done"],
        "moves": 1,
    }


def test_payment_event_pays_invoice_without_manual_step(server, data):
    invoice = data["invoices"][0]
    answer = _post(server, data, _payment_event(data, invoice))
    assert (answer.status_code, answer.text) == (200, "ok")
    _assert_paid_once(server, invoice)


def test_concurrent_deliveries_book_one_payment(server, data):
    """The same event twice and a second event for the same payment, sent at
    once to two HTTP workers, while this process runs the processor too."""
    invoice = data["invoices"][1]
    event = _payment_event(data, invoice)
    other = _payment_event(data, invoice, event_id=f"{event['id']}_bis")
    barrier = threading.Barrier(4)
    answers = []

    def deliver(payload):
        barrier.wait()
        answers.append(_post(server, data, payload))

    def process():
        barrier.wait()
        for _round in range(20):
            with committed_env() as env:
                env["paycrm.event"].with_context(
                    paycrm_commit=True
                )._paycrm_process_batch(10)
            time.sleep(0.05)

    threads = [
        threading.Thread(target=deliver, args=(payload,))
        for payload in (event, event, other)
    ] + [threading.Thread(target=process)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert sorted((a.status_code, a.text) for a in answers) == [
        (200, "duplicate"),
        (200, "ok"),
        (200, "ok"),
    ]
    paid = wait_for(_invoice_state(invoice["id"], settled=False))
    assert paid, f"invoice not paid within {WAIT_S} s:\n{server.log_tail()}"
    # An event that lost a race waits for its back-off (30 s): run it now.
    with committed_env() as env:
        env["paycrm.event"].with_context(paycrm_commit=True)._paycrm_process_batch(
            10, force=True
        )
    state = wait_for(_invoice_state(invoice["id"]), timeout=0)
    assert state == {
        "residual": 0.0,
        "received": invoice["minor"] / 100,
        "events": ["done", "done"],
        "moves": 1,
    }


def test_concurrent_demo_submits_pay_once(server, data):
    """Three Pay submits of one demo session at once, on two HTTP workers:
    one claims the session and stores the payment, the others answer 409."""
    invoice = data["invoices"][2]
    browser = requests.Session()
    click = browser.get(
        f"{server.url}/paycrm/pay/{invoice['id']}/{invoice['token']}",
        allow_redirects=False,
        timeout=WAIT_S,
    )
    assert click.status_code == 303, click.text
    path = urlsplit(click.headers["Location"]).path
    page = browser.get(f"{server.url}{path}", timeout=WAIT_S)
    assert page.status_code == 200, page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    barrier = threading.Barrier(3)
    answers = []

    def submit():
        barrier.wait()
        answers.append(
            browser.post(
                f"{server.url}{path}/submit",
                data={"csrf_token": csrf, "outcome": "pay", "method": "card"},
                allow_redirects=False,
                timeout=WAIT_S,
            )
        )

    threads = [threading.Thread(target=submit) for _i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert sorted(a.status_code for a in answers) == [303, 409, 409], [
        a.text[:200] for a in answers
    ]
    _assert_paid_once(server, invoice)
