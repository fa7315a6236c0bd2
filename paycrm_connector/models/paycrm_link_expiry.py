"""The expiry queue of checkout sessions: stale sessions are closed at the
gateway by a cron job, off the user's request, retried when the gateway fails.

A session is queued (state *closing*) when its invoice no longer wants it paid
(paid, reversed, reset to draft, cancelled, its gateway disabled) or when a
newer session asks for today's amount; the job closes it at the gateway. The
claim, tries and wake-up are the shared queue's (paycrm_queue_mixin.py).
"""

import logging

from odoo import _, api, fields, models

from .. import const
from ..gateways import GatewayError

_logger = logging.getLogger(__name__)


class PaycrmLink(models.Model):
    _name = "paycrm.link"
    # The session record and the checkout: paycrm_link.py.
    _inherit = [  # pylint: disable=consider-merging-classes-inherited
        "paycrm.link",
        "paycrm.queue.mixin",
    ]

    _paycrm_queue_cron = "paycrm_connector.ir_cron_paycrm_expire_links"
    _paycrm_queue_attempts_field = "expire_tries"
    # A failed expiry is tried again by the job's next periodic run.
    _paycrm_queue_next_try_field = None

    @api.model
    def _paycrm_queue_ready_domain(self):
        return [("state", "=", "closing")]

    def _paycrm_queue_max_attempts(self):
        return const.LINK_EXPIRE_MAX_TRIES

    def _paycrm_queue_failed_vals(self):
        # The gateway expires it on its own at expires_at anyway.
        return {"state": "expired"}

    def _paycrm_schedule_expiry(self):
        if self:
            self.write({"state": "closing"})
            self._paycrm_queue_trigger()

    @api.model
    def _paycrm_queue_finished_invoices(self, moves=None):
        """Queue the open sessions of paid, reversed, draft or cancelled
        invoices for expiry."""
        domain = [
            ("state", "=", "open"),
            "|",
            ("move_id.state", "in", ("draft", "cancel")),
            ("move_id.payment_state", "in", ("paid", "in_payment", "reversed")),
        ]
        if moves is not None:
            domain.append(("move_id", "in", moves.ids))
        self.search(domain)._paycrm_schedule_expiry()

    @api.model
    def _paycrm_close_outdated_sessions(self, moves):
        """Queue for expiry the open sessions of ``moves`` that would refuse a
        payment now (``_paycrm_refusal``: settled by other means, in full or
        in part, reset to draft, cancelled)."""
        self.search([("move_id", "in", moves.ids), ("state", "=", "open")]).filtered(
            lambda link: link._paycrm_refusal()
        )._paycrm_schedule_expiry()

    @api.model
    def _cron_paycrm_expire_links(self, batch_size=200):
        """Close stale sessions at the gateway, in batches, retrying failures.

        Runs off the user's request: a slow or failing gateway delays cleanup,
        never a click or an invoice action.
        """
        self._paycrm_queue_finished_invoices()
        now = fields.Datetime.now()
        lapsed = self.search([("state", "=", "open"), ("expires_at", "<=", now)])
        for link in lapsed:
            link.state = "expired"
            link._paycrm_log(
                _(
                    "Checkout for %(amount)s expired.",
                    amount=link._paycrm_amount_label(),
                )
            )
        queued = self._paycrm_queue_ready_count()
        done = self._paycrm_queue_process(
            batch_size,
            lambda links: [link._paycrm_expire_at_gateway() for link in links],
        )
        # Sessions that failed stay queued for the next periodic run, not
        # for a run right now: they count as done here.
        self.env["ir.cron"]._notify_progress(done=done, remaining=max(queued - done, 0))

    def _paycrm_expire_at_gateway(self):
        self.ensure_one()
        try:
            if self.session_ref and (
                not self.expires_at or self.expires_at > fields.Datetime.now()
            ):
                self.gateway_id._paycrm_adapter().expire_checkout(self.session_ref)
        except GatewayError as exc:
            _logger.warning(
                "paycrm link %s: expiring session failed (try %s): %s",
                self.id,
                self.expire_tries + 1,
                exc,
            )
            # Whatever the gateway said, it is asked again up to the limit;
            # then the session is left to lapse there on its own (expires_at).
            self._paycrm_queue_retry(str(exc))
            return
        self.write({"state": "expired", "last_error": False})
        self._paycrm_log(
            _("Checkout for %(amount)s expired.", amount=self._paycrm_amount_label())
        )
