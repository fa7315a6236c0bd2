"""Crash-rerun and two concurrent runs, on real committed data.

These tests need real commits and real concurrent connections, which the
test transaction cannot give: they build their data through fresh cursors
(``registry.cursor()``), work on the main company with the shipped policy,
and delete everything they committed afterwards.
"""

import threading
import time
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

CUSTOMERS = 4


@tagged("post_install", "-at_install")
class TestReminderConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        with self._env() as env:
            company = env.ref("base.main_company")
            self.policy_id = company.paycrm_reminder_policy_id.id
            self.assertEqual(
                self.policy_id,
                env.ref("paycrm_connector.paycrm_reminder_policy_default").id,
            )
            partners = env["res.partner"].create(
                [
                    {"name": f"Concurrent {i}", "email": f"c{i}@example.com"}
                    for i in range(CUSTOMERS)
                ]
            )
            invoices = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "company_id": company.id,
                            "partner_id": partner.id,
                            "invoice_date": "2025-03-03",
                            "invoice_date_due": "2025-03-03",
                            "invoice_line_ids": [
                                Command.create(
                                    {"name": "S", "price_unit": 10.0, "tax_ids": []}
                                )
                            ],
                        }
                        for partner in partners
                        for _n in range(2)
                    ]
                )
            )
            invoices.action_post()
            self.partner_ids, self.invoice_ids = partners.ids, invoices.ids
        self.addCleanup(self._cleanup)

    def _env(self):
        registry = self.registry

        class _Ctx:
            def __enter__(ctx):
                ctx.cr = registry.cursor()
                return api.Environment(ctx.cr, SUPERUSER_ID, {})

            def __exit__(ctx, exc_type, exc, tb):
                if exc_type is None:
                    ctx.cr.commit()
                else:
                    ctx.cr.rollback()
                ctx.cr.close()

        return _Ctx()

    def _cleanup(self):
        with self._env() as env:
            invoices = env["account.move"].browse(self.invoice_ids)
            env["paycrm.reminder.log"].search(
                [("invoice_id", "in", self.invoice_ids)]
            ).unlink()
            env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "in", self.partner_ids)]
            ).unlink()
            invoices.button_draft()
            invoices.with_context(force_delete=True).unlink()
            env["res.partner"].browse(self.partner_ids).unlink()
            env["ir.config_parameter"].set_param(
                "paycrm_connector.reminder_batch_size", False
            )

    def _committed(self):
        with self._env() as env:
            logs = env["paycrm.reminder.log"].search(
                [("invoice_id", "in", self.invoice_ids)]
            )
            mails = env["mail.mail"].search(
                [
                    ("mail_message_id.model", "=", "res.partner"),
                    ("mail_message_id.res_id", "in", self.partner_ids),
                ]
            )
            per_customer = {pid: 0 for pid in self.partner_ids}
            for mail in mails:
                per_customer[mail.mail_message_id.res_id] += 1
            return len(logs), set(logs.mapped("result")), per_customer

    def test_crash_half_way_then_rerun_sends_the_rest_once(self):
        with self._env() as env:
            env["ir.config_parameter"].set_param(
                "paycrm_connector.reminder_batch_size", 1
            )
        calls = []

        def crash_after_two_batches(*args, **kwargs):
            calls.append(kwargs)
            if len(calls) == 2:
                raise RuntimeError("worker killed")

        IrCron = type(self.env["ir.cron"])
        with freeze_time("2025-03-10 12:00:00"):
            with (
                patch.object(IrCron, "_notify_progress", crash_after_two_batches),
                self.assertRaisesRegex(RuntimeError, "worker killed"),
                self._env() as env,
            ):
                env["paycrm.reminder.policy"].browse(self.policy_id)._paycrm_run(
                    auto_commit=True
                )
            count, _results, per_customer = self._committed()
            self.assertEqual(count, 4)  # two customers, two invoices each, committed
            self.assertEqual(sorted(per_customer.values()), [0, 0, 1, 1])
            with self._env() as env:
                stats = (
                    env["paycrm.reminder.policy"]
                    .browse(self.policy_id)
                    ._paycrm_run(auto_commit=True)
                )
            self.assertEqual(stats["sent"], 2)
        count, results, per_customer = self._committed()
        self.assertEqual(count, 2 * CUSTOMERS)
        self.assertEqual(results, {"queued"})
        self.assertEqual(set(per_customer.values()), {1})

    def test_two_concurrent_runs_send_once(self):
        # Odoo's own test runner holds the registry lock in its main thread for
        # the whole run (ThreadedServer.run): run B's thread, opening its
        # environment, would wait on it for ever. HttpCase lifts it the same way
        # (Registry.enter_test_mode).
        self.patch(Registry, "_lock", DummyRLock())
        stats_b = {}
        errors = []
        # B's failed serialisation is expected: sql_db would log it as an error.
        with freeze_time("2025-03-10 12:00:00"), mute_logger("odoo.sql_db"):
            with self._env() as env_a:
                env_a["paycrm.reminder.policy"].browse(self.policy_id)._paycrm_run(
                    auto_commit=False
                )
                pid_a = env_a.cr.connection.get_backend_pid()

                def run_b():
                    try:
                        with self._env() as env_b:
                            stats_b.update(
                                env_b["paycrm.reminder.policy"]
                                .browse(self.policy_id)
                                ._paycrm_run(auto_commit=True)
                            )
                    except Exception as exc:  # noqa: BLE001 - asserted below
                        errors.append(exc)

                thread = threading.Thread(target=run_b)
                thread.start()
                self.assertTrue(self._wait_blocked_by(pid_a), "run B never waited on A")
            # Leaving the block commits run A: B wakes up, fails to serialise,
            # replans and finds every reminder already sent.
            thread.join(timeout=60)
        self.assertFalse(thread.is_alive())
        self.assertFalse(errors)
        self.assertEqual(stats_b["sent"], 0)
        count, results, per_customer = self._committed()
        self.assertEqual(count, 2 * CUSTOMERS)
        self.assertEqual(results, {"queued"})
        self.assertEqual(set(per_customer.values()), {1})

    def _wait_blocked_by(self, pid, timeout=20):
        # Counted in sleeps, not by the clock: freeze_time stops time.monotonic.
        with self.registry.cursor() as cr:
            for _try in range(int(timeout / 0.05)):
                cr.execute(
                    "SELECT 1 FROM pg_stat_activity"
                    " WHERE %s = ANY(pg_blocking_pids(pid))",
                    [pid],
                )
                if cr.fetchone():
                    return True
                cr.rollback()
                time.sleep(0.05)
        return False
