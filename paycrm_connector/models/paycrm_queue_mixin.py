"""One queue mechanism for every piece of work retried off the user's request.

Gateway events, checkout sessions to expire at the gateway, reminder SMS the
provider refused and reminder runs all wait in a table, are claimed by a cron
worker, and are either done, tried again later or given up. This mixin holds
how that is done, once:

- claim: ready rows are locked ``FOR UPDATE SKIP LOCKED``, so several workers
  share a queue and never take the same row;
- attempts and next try: a failed row counts its tries and waits with an
  exponential back-off (``base * 2**(n-1)``, capped); past the model's limit
  (a record or setting an admin tunes, e.g. the gateway's *Event Retries*) it
  is given up;
- error classification: a database conflict (another worker held the row or
  won a race) or an unreachable gateway is worth another try; anything else
  is a failure retrying will not fix;
- wake-up: the job is triggered once per moment, not once per row (a trigger
  is a row and, after the commit, a notification of the cron workers).

A model that uses it names its bookkeeping columns (the names its users know
already) and says what to do with one claimed row; nothing else.
"""

from datetime import timedelta

import psycopg2
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..gateways import GatewayUnreachable

# Database errors worth another try: another worker held the row or won a race.
TRANSIENT_PGCODES = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
    errorcodes.UNIQUE_VIOLATION,
}
# Doublings of the back-off before the cap always wins (keeps 2**n small).
MAX_DOUBLINGS = 20


class PaycrmQueueMixin(models.AbstractModel):
    _name = "paycrm.queue.mixin"
    _description = "Payment Connector Work Queue"

    # The job that works the queue (an ir.cron XML id).
    _paycrm_queue_cron = None
    # The model's own columns for the queue's bookkeeping. No next-try column:
    # a failed row is simply tried again by the job's next periodic run.
    _paycrm_queue_attempts_field = "attempts"
    _paycrm_queue_next_try_field = "next_try"
    _paycrm_queue_error_field = "last_error"
    # Back-off after the n-th failed try: base * 2**(n-1) seconds, capped.
    _paycrm_queue_retry_base = 30
    _paycrm_queue_retry_max = 6 * 3600

    # ------------------------------------------------------------ model hooks

    @api.model
    def _paycrm_queue_ready_domain(self):
        """Rows waiting to be worked (whatever their next try)."""
        raise NotImplementedError

    def _paycrm_queue_max_attempts(self):
        """Tries of the row ``self`` before it is given up; 0: no limit."""
        return 0

    def _paycrm_queue_failed_vals(self):
        """What else a given-up row gets written (its final state)."""
        return {}

    def _paycrm_queue_writer(self):
        """The records the queue's bookkeeping is written through."""
        return self

    # ------------------------------------------------------------------ claim

    @api.model
    def _paycrm_queue_due_domain(self, force=False):
        """Ready rows whose next try has come (``force``: all ready rows)."""
        domain = list(self._paycrm_queue_ready_domain())
        column = self._paycrm_queue_next_try_field
        if column and not force:
            domain += ["|", (column, "=", False), (column, "<=", fields.Datetime.now())]
        return domain

    @api.model
    def _paycrm_queue_claim(self, limit, force=False, exclude=(), domain=()):
        """Lock and return up to ``limit`` due rows, oldest first; rows another
        worker holds are skipped, not waited for. ``exclude``: ids this run
        already had; ``domain``: a narrower choice among the due rows."""
        domain = self._paycrm_queue_due_domain(force) + list(domain)
        if exclude:
            domain.append(("id", "not in", list(exclude)))
        # Archived related records (a gateway) do not hide their rows.
        query = self.with_context(active_test=False)._search(
            domain, order="id", limit=limit
        )
        rows = self.env.execute_query(
            SQL(
                "%s FOR UPDATE OF %s SKIP LOCKED",
                query.select(),
                SQL.identifier(self._table),
            )
        )
        return self.browse(row[0] for row in rows)

    @api.model
    def _paycrm_queue_ready_count(self):
        """How many rows are due now (a backlog the job reports or shares)."""
        return self.with_context(active_test=False).search_count(
            self._paycrm_queue_due_domain()
        )

    @api.model
    def _paycrm_queue_commits(self):
        """Whether the run commits each claim: in a cron worker that asked for
        it (``paycrm_commit``), never in tests, which share one cursor."""
        return bool(self.env.context.get("paycrm_commit")) and not (
            self.env.registry.in_test_mode()
        )

    @api.model
    def _paycrm_queue_process(self, limit, handle, force=False, size=None):
        """Claim and work up to ``limit`` due rows; return how many.

        Rows are claimed ``size`` at a time and ``handle(claimed)`` works each
        claim; a run that commits (``_paycrm_queue_commits``) commits every
        claim, so a crash loses one claim's work and its rows are simply
        claimed again. ``force`` ignores the back-off (reprocessing, tests).
        """
        commit = self._paycrm_queue_commits()
        seen = []
        while len(seen) < limit:
            claimed = self._paycrm_queue_claim(
                min(size or limit, limit - len(seen)), force=force, exclude=seen
            )
            if not claimed:
                break
            handle(claimed)
            seen += claimed.ids
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return len(seen)

    @api.model
    def _paycrm_queue_make_due(self, domain):
        """Rows of ``domain`` waiting for a later try are due now; rows another
        worker holds are being worked already and are left alone."""
        column = self._paycrm_queue_next_try_field
        now = fields.Datetime.now()
        query = self.with_context(active_test=False)._search(
            [*domain, (column, ">", now)]
        )
        self.env.execute_query(
            SQL(
                "UPDATE %s SET %s = %s WHERE id IN (%s FOR UPDATE SKIP LOCKED)",
                SQL.identifier(self._table),
                SQL.identifier(column),
                now,
                query.select(),
            )
        )
        self.invalidate_model([column])

    # ------------------------------------------------------------ retry, fail

    @api.model
    def _paycrm_queue_backoff(self, attempts, cap=None):
        """Seconds to wait after the ``attempts``-th failed try."""
        doublings = min(max(attempts - 1, 0), MAX_DOUBLINGS)
        return min(
            self._paycrm_queue_retry_base * 2**doublings,
            cap or self._paycrm_queue_retry_max,
        )

    @api.model
    def _paycrm_queue_is_transient(self, exc):
        """Whether another try may succeed where ``exc`` failed."""
        if isinstance(exc, psycopg2.Error):
            return exc.pgcode in TRANSIENT_PGCODES
        return isinstance(exc, GatewayUnreachable)

    @api.model
    def _paycrm_queue_error_message(self, exc):
        """What the row's error column says about ``exc``."""
        if isinstance(exc, psycopg2.Error):
            if exc.pgcode in TRANSIENT_PGCODES:
                return _("Database conflict (%(code)s), will retry.", code=exc.pgcode)
            return str(exc).split("\n")[0]
        return str(exc)

    def _paycrm_queue_error(self, exc):
        """Try the row ``self`` again later or give it up, as ``exc`` says."""
        message = self._paycrm_queue_error_message(exc)
        if self._paycrm_queue_is_transient(exc):
            self._paycrm_queue_retry(message)
        else:
            self._paycrm_queue_fail(message)

    def _paycrm_queue_retry(self, message, max_attempts=None, cap=None, deadline=None):
        """Count a failed try of the row ``self`` and schedule the next one
        with back-off (never after ``deadline``), or give the row up once it
        has had ``max_attempts`` tries (default: the model's limit; 0: none).
        Return whether it will be tried again."""
        self.ensure_one()
        attempts = self[self._paycrm_queue_attempts_field] + 1
        if max_attempts is None:
            max_attempts = self._paycrm_queue_max_attempts()
        if max_attempts and attempts >= max_attempts:
            self._paycrm_queue_fail(message, attempts=attempts)
            return False
        next_try = None
        if self._paycrm_queue_next_try_field:
            next_try = fields.Datetime.now() + timedelta(
                seconds=self._paycrm_queue_backoff(attempts, cap)
            )
            if deadline:
                next_try = min(next_try, deadline)
        self._paycrm_queue_schedule(attempts, next_try, message)
        return True

    def _paycrm_queue_schedule(self, attempts, next_try, message):
        """Write the rows' tries and error and have the job run at their next
        try (without a next-try column, at its next periodic run)."""
        vals = {
            self._paycrm_queue_attempts_field: attempts,
            self._paycrm_queue_error_field: message,
        }
        if self._paycrm_queue_next_try_field:
            vals[self._paycrm_queue_next_try_field] = next_try
        self._paycrm_queue_writer().write(vals)
        if next_try:
            self._paycrm_queue_trigger(next_try)

    def _paycrm_queue_fail(self, message, attempts=None):
        """Give the row ``self`` up: no more tries, ``message`` says why."""
        self.ensure_one()
        vals = {
            self._paycrm_queue_attempts_field: attempts
            or self[self._paycrm_queue_attempts_field] + 1,
            self._paycrm_queue_error_field: message,
            **self._paycrm_queue_failed_vals(),
        }
        if self._paycrm_queue_next_try_field:
            vals[self._paycrm_queue_next_try_field] = False
        self._paycrm_queue_writer().write(vals)

    # ---------------------------------------------------------------- wake-up

    @api.model
    def _paycrm_queue_trigger(self, at=None):
        """Have the job run at ``at`` (now by default), once: a trigger that
        is already waiting for that moment stands in for a new one.

        A trigger costs a row and, after the commit, a new connection to the
        ``postgres`` database to notify the cron workers: most of what a
        webhook's intake costs. Now: any due trigger will start a run, and
        that run reads the queue until it is empty, this row included. Odoo
        deletes a job's due triggers when a run ends; a row committed after
        that run's last read waits for the next trigger or the job's periodic
        run, as it would with a trigger of its own created in the same second
        (call_at has no fractions). Later (a back-off): only a trigger for
        that very moment counts; one due earlier runs before the row is due.
        Triggers created in this transaction count too, so a claim whose rows
        all fail at once triggers the job once.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(self._paycrm_queue_cron)
        now = fields.Datetime.now()
        later = bool(at) and at > now
        self.env.cr.execute(
            SQL(
                "SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND %s LIMIT 1",
                cron_id,
                SQL("call_at = %s", at) if later else SQL("call_at <= %s", now),
            )
        )
        if not self.env.cr.fetchone():
            # sudo: rows are queued by public requests (webhooks, clicks) too.
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at if later else None)
