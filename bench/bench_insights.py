"""Payment insights benchmark: profile recompute, partner form read, analysis views.

Run by ``make bench-insights`` (setup/bench.sh gives a throw-away database).
Sizes: ``--sizes 200:5000,2000:50000`` (customers:invoices, default both); each
size adds its own customers, so the analysis views see every size so far.
History: invoices over the last 13 months, ~70 % paid (0-40 days after the
due date, a few early); one invoice and one payment made through the ORM are
cloned in SQL (moves, lines, partial reconciliations: see ``generate``);
10 % of the paid ones got a reminder, 20 % carry gateway events (card, SEPA,
PayPal), a third of the invoices had their payment link sent.

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
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))

from harness import environment, print_table, setup_odoo, summary  # noqa: E402

from odoo import Command, fields  # noqa: E402

BATCH = 500
# Invoices cloned per INSERT statement.
SQL_BATCH = 5000
REPEAT = 3


def generate(env, customers, invoices, tag):
    """The history, written fast: one invoice and one payment are made, posted
    and reconciled through the ORM, then cloned row by row in SQL (moves,
    lines, partial reconciliations) with their own partner, dates, amounts and
    settlement. The ORM would take ~75 ms per paid invoice (~1 h at 50,000);
    the figures measured afterwards read the same tables either way."""
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
    templates = make_templates(env, partners[0])
    rows = []  # (partner, name, invoice date, due, amount, payment date or None)
    for n in range(invoices):
        day = today - timedelta(days=rng.randint(0, 395))
        due = day + timedelta(days=30)
        paid = due + timedelta(days=rng.randint(-5, 40))
        if paid > today or rng.random() >= 0.7:
            paid = None
        rows.append(
            (partners[n % customers], n + 1, day, due, rng.randint(50, 3000), paid)
        )
    for start in range(0, len(rows), SQL_BATCH):
        clone_batch(env, templates, rows[start : start + SQL_BATCH], tag)
    env.invalidate_all()
    logs, events = [], []
    methods = ["card"] * 6 + ["sepa_debit"] * 2 + ["paypal"] * 2
    countries = env["res.country"].search([("code", "in", ("BE", "FR", "US"))]).ids
    currency = company.currency_id
    for move_id, row in zip(templates["move_ids"], rows, strict=True):
        if not row[5]:
            continue
        roll = rng.random()
        if roll < 0.1:
            logs.append(
                {
                    "company_id": company.id,
                    "invoice_id": move_id,
                    "stage_id": policy.stage_ids.id,
                    "result": "sent",
                    "sent_at": fields.Datetime.to_datetime(row[3] + timedelta(days=7)),
                }
            )
        if roll < 0.2:
            kind = "payment_failed" if roll < 0.03 else "payment_succeeded"
            method = rng.choice(methods)
            events.append(
                {
                    "gateway_id": gateway.id,
                    "company_id": company.id,
                    "external_id": f"evt_bench_{tag}_{move_id}",
                    "event_type": kind,
                    "kind": kind,
                    "state": "done",
                    "invoice_id": move_id,
                    "currency_id": currency.id,
                    "amount": row[4],
                    "fee_amount": round(row[4] * 0.015 + 0.25, 2),
                    "payment_method": method,
                    "card_country_id": rng.choice(countries)
                    if method == "card"
                    else False,
                    "created": fields.Datetime.to_datetime(row[3]),
                }
            )
    quiet = {"tracking_disable": True, "mail_create_nolog": True}
    for start in range(0, len(logs), BATCH):
        env["paycrm.reminder.log"].with_context(**quiet).create(
            logs[start : start + BATCH]
        )
    for start in range(0, len(events), BATCH):
        env["paycrm.event"].with_context(**quiet).create(events[start : start + BATCH])
    # Link funnel: a third of the invoices were sent their link, most of those
    # opened it.
    env.cr.execute(
        """UPDATE account_move
              SET paycrm_link_sent_count = 1 + mod(id, 3),
                  paycrm_link_first_sent = invoice_date + INTERVAL '1 day',
                  paycrm_link_first_opened = CASE WHEN mod(id, 5) < 3
                      THEN invoice_date + INTERVAL '2 days' END
            WHERE id = ANY(%s) AND mod(id, 3) = 0""",
        [templates["move_ids"]],
    )
    env.invalidate_all()
    # Generation queued every customer: drop that, the recompute is measured.
    env.cr.precommit.clear()
    env.cr.commit()
    # The ORM-made templates: one open invoice, one settled pair, 100 each.
    expected = {
        "paid": 100 + sum(r[4] for r in rows if r[5]),
        "open": 100 + sum(r[4] for r in rows if not r[5]),
    }
    return partners, expected


def check(partners, expected):
    """The recomputed profiles add up to the generated history (the clones
    are consistent enough for the profile queries)."""
    got = {
        "paid": round(sum(partners.mapped("paycrm_lifetime_paid")), 2),
        "open": round(sum(partners.mapped("paycrm_open_amount")), 2),
    }
    if got != expected:
        raise AssertionError(f"profiles {got} != generated history {expected}")


def make_templates(env, partner):
    """One unpaid posted invoice and one posted payment through the ORM, and
    the payment state the ORM gives an invoice those settle."""
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
    )

    def invoice():
        move = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Service", "price_unit": 100.0, "tax_ids": []}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def payment():
        pay = env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": 100.0,
                "journal_id": journal.id,
            }
        )
        pay.action_post()
        return pay.move_id

    inv, pay = invoice(), payment()
    # A pair settled by the ORM, only to learn the payment state it sets.
    settled, settling = invoice(), payment()
    (settled.line_ids | settling.line_ids).filtered(
        lambda line: line.account_type == "asset_receivable"
    ).reconcile()
    env.flush_all()
    receivable = (inv.line_ids | pay.line_ids).filtered(
        lambda line: line.account_type == "asset_receivable"
    )
    return {
        "invoice": inv.id,
        "payment": pay.id,
        "receivable_lines": receivable.ids,
        "paid_state": settled.payment_state,
        "move_ids": [],
    }


def _columns(cr, table):
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = %s
              AND column_name != 'id' ORDER BY ordinal_position""",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


# Columns a clone never shares with its template.
CLEARED = {
    "access_token",
    "inalterable_hash",
    "secure_sequence_number",
    "message_main_attachment_id",
    "origin_payment_id",
    "payment_id",
    "statement_line_id",
    "statement_id",
    "full_reconcile_id",
    "matching_number",
    "reversed_entry_id",
}


def _insert_clones(cr, table, template_where, source, overrides):
    """INSERT one row per ``source`` row and template row, RETURNING id.

    ``source``: ``(column aliases, [(values, SQL type)])`` of an ``unnest``
    giving ``s``;
    ``overrides``: column -> SQL expression over ``s`` and the template ``t``.
    """
    columns = _columns(cr, table)
    exprs = []
    for column in columns:
        if column in overrides:
            exprs.append(overrides[column])
        elif column in CLEARED:
            exprs.append("NULL")
        elif column in ("create_date", "write_date"):
            exprs.append("now() AT TIME ZONE 'UTC'")
        else:
            exprs.append(f't."{column}"')
    names = ", ".join(f'"{c}"' for c in columns)
    alias, typed = source
    arrays = ", ".join(f"%s::{kind}[]" for _values, kind in typed)
    params = [list(values) for values, _kind in typed]
    cr.execute(
        f"""INSERT INTO {table} ({names})
            SELECT {", ".join(exprs)}
              FROM unnest({arrays}) AS s({alias})
             CROSS JOIN {table} t WHERE {template_where}
             ORDER BY s.n, t.id
            RETURNING id""",
        params,
    )
    return [row[0] for row in cr.fetchall()]


def clone_batch(env, templates, rows, tag):
    cr = env.cr
    paid_state = templates["paid_state"]
    amount = "s.amount::numeric"
    signed = "SIGN(t.balance) * s.amount::numeric"
    move_over = {
        "name": "s.name",
        "partner_id": "s.partner",
        "commercial_partner_id": "s.partner",
        "date": "s.day",
        "invoice_date": "CASE WHEN t.invoice_date IS NULL THEN NULL ELSE s.day END",
        "invoice_date_due": "CASE WHEN t.invoice_date_due IS NULL THEN NULL "
        "ELSE s.due END",
        "sequence_prefix": "s.prefix",
        "sequence_number": "s.n",
        "payment_reference": "CASE WHEN t.payment_reference IS NULL THEN NULL "
        "ELSE s.name END",
        "invoice_partner_display_name": "s.pname",
    }
    for column in ("amount_untaxed", "amount_total"):
        for suffix in ("", "_signed", "_in_currency_signed"):
            move_over[column + suffix] = amount
    for column in ("amount_tax", "amount_tax_signed"):
        move_over[column] = "0"
    invoice_over = dict(
        move_over,
        amount_residual=f"CASE WHEN s.paid THEN 0 ELSE {amount} END",
        amount_residual_signed=f"CASE WHEN s.paid THEN 0 ELSE {amount} END",
        payment_state=f"CASE WHEN s.paid THEN '{paid_state}' ELSE 'not_paid' END",
        paycrm_link_state="CASE WHEN s.paid THEN 'paid' ELSE t.paycrm_link_state END",
        partner_shipping_id="s.partner",
    )
    alias = "n, partner, pname, name, prefix, day, due, amount, paid"
    inv_params = [
        [r[1] for r in rows],
        [r[0].id for r in rows],
        [r[0].name for r in rows],
        [f"BINV/{tag}/{r[1]:06d}" for r in rows],
        [f"BINV/{tag}/"] * len(rows),
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [bool(r[5]) for r in rows],
    ]
    inv_params = list(
        zip(
            inv_params,
            ["int", "int", "varchar", "varchar", "varchar", "date", "date", "int",
             "bool"],
            strict=True,
        )
    )  # fmt: skip
    inv_ids = _insert_clones(
        cr,
        "account_move",
        f"t.id = {int(templates['invoice'])}",
        (alias, inv_params),
        invoice_over,
    )
    templates["move_ids"] += inv_ids
    paid_rows = [(r, mid) for r, mid in zip(rows, inv_ids, strict=True) if r[5]]
    pay_ids = []
    if paid_rows:
        pay_params = [
            ([r[1] for r, _m in paid_rows], "int"),
            ([r[0].id for r, _m in paid_rows], "int"),
            ([r[0].name for r, _m in paid_rows], "varchar"),
            ([f"BPAY/{tag}/{r[1]:06d}" for r, _m in paid_rows], "varchar"),
            ([f"BPAY/{tag}/"] * len(paid_rows), "varchar"),
            ([r[5] for r, _m in paid_rows], "date"),
            ([r[5] for r, _m in paid_rows], "date"),
            ([r[4] for r, _m in paid_rows], "int"),
            ([True] * len(paid_rows), "bool"),
        ]
        pay_ids = _insert_clones(
            cr,
            "account_move",
            f"t.id = {int(templates['payment'])}",
            (alias, pay_params),
            dict(move_over, amount_residual="0", amount_residual_signed="0"),
        )
    # Lines: the clone of each template line, for each new move.
    receivable = "t.id = ANY(ARRAY[%s]::int[])" % ",".join(
        str(int(i)) for i in templates["receivable_lines"]
    )
    line_over = {
        "move_id": "s.move",
        "move_name": "s.name",
        "partner_id": "s.partner",
        "date": "s.day",
        "invoice_date": "CASE WHEN t.invoice_date IS NULL THEN NULL ELSE s.day END",
        "date_maturity": "CASE WHEN t.date_maturity IS NULL THEN NULL ELSE s.due END",
        "balance": signed,
        "amount_currency": signed,
        "debit": f"CASE WHEN t.debit > 0 THEN {amount} ELSE 0 END",
        "credit": f"CASE WHEN t.credit > 0 THEN {amount} ELSE 0 END",
        "price_unit": "SIGN(t.price_unit) * s.amount::numeric",
        "price_subtotal": "SIGN(t.price_subtotal) * s.amount::numeric",
        "price_total": "SIGN(t.price_total) * s.amount::numeric",
        "amount_residual": f"CASE WHEN {receivable} AND s.paid THEN 0 "
        f"WHEN t.amount_residual = 0 THEN 0 ELSE {signed} END",
        "amount_residual_currency": f"CASE WHEN {receivable} AND s.paid THEN 0 "
        f"WHEN t.amount_residual_currency = 0 THEN 0 ELSE {signed} END",
        "reconciled": f"({receivable} AND s.paid)",
    }
    line_alias = "n, move, partner, name, day, due, amount, paid"

    def clone_lines(template, moves, source_rows, paid, due_of):
        params = [
            ([r[1] for r in source_rows], "int"),
            (moves, "int"),
            ([r[0].id for r in source_rows], "int"),
            (
                [f"{'BPAY' if paid is True else 'BINV'}/{tag}/{r[1]:06d}"
                 for r in source_rows],
                "varchar",
            ),
            ([r[5] if paid is True else r[2] for r in source_rows], "date"),
            ([due_of(r) for r in source_rows], "date"),
            ([r[4] for r in source_rows], "int"),
            ([True if paid is True else bool(r[5]) for r in source_rows],
                     "bool"),
        ]  # fmt: skip
        return _insert_clones(
            cr,
            "account_move_line",
            f"t.move_id = {int(template)}",
            (line_alias, params),
            line_over,
        )

    clone_lines(templates["invoice"], inv_ids, rows, None, lambda r: r[3])
    if paid_rows:
        paid_src = [r for r, _m in paid_rows]
        clone_lines(templates["payment"], pay_ids, paid_src, True, lambda r: r[5])
        # One partial per paid invoice: its receivable line with the payment's.
        cr.execute(
            """
            WITH pairs AS (
                SELECT * FROM unnest(%s::int[], %s::int[], %s::date[], %s::int[])
                    AS p(inv, pay, day, amount)
            )
            INSERT INTO account_partial_reconcile
                   (debit_move_id, credit_move_id, amount, debit_amount_currency,
                    credit_amount_currency, debit_currency_id, credit_currency_id,
                    company_id, max_date, create_uid, write_uid, create_date,
                    write_date)
            SELECT dl.id, cl.id, p.amount, p.amount, p.amount, dl.currency_id,
                   cl.currency_id, dl.company_id, p.day, %s, %s,
                   now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM pairs p
              JOIN account_move_line dl ON dl.move_id = p.inv
                   AND dl.display_type = 'payment_term'
              JOIN account_move_line cl ON cl.move_id = p.pay AND cl.reconciled
            """,
            [
                [m for _r, m in paid_rows],
                pay_ids,
                [r[5] for r, _m in paid_rows],
                [r[4] for r, _m in paid_rows],
                env.uid,
                env.uid,
            ],
        )


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
    partners, expected = generate(env, customers, invoices, tag)
    gen_s = time.perf_counter() - start
    # What autovacuum does after a bulk load (it is off on this machine's server).
    env.cr.execute("ANALYZE")

    recompute = repeat(partners._paycrm_recompute_profiles, env)
    check(partners, expected)
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
        "success by method": lambda: env["paycrm.gateway.analysis"]._read_group(
            [], ["gateway_id", "payment_method"], ["success_rate:avg"]
        ),
        "link funnel": lambda: env["paycrm.link.funnel.analysis"]._read_group(
            [],
            ["sent_date:month", "gateway_id"],
            ["sent_count:sum", "opened_count:sum", "paid_count:sum"],
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
