"""The demo gateway's hosted page taking the payer's answer: the session is
claimed and the event the gateway would send is stored, in process."""

from odoo import fields, models
from odoo.tools import SQL

from ..gateways import DemoAdapter


class PaycrmLink(models.Model):
    _inherit = "paycrm.link"

    def _paycrm_demo_submit(self, paid, method):
        """Pay (or decline) this demo session; return ``""`` or why not.

        A payment claims the session first, in this transaction: one
        conditional UPDATE moves it from ``open`` to ``submitted``, so of
        several submits exactly one stores a payment (a concurrent one waits
        for the row, then fails to serialize and Odoo replays it, which finds
        the session taken). A declined card leaves the session open and counts
        the try, whose number makes the failed payment's id. The event goes
        through the intake's own store and processor trigger, never over HTTP:
        the server built it from this row, so there is no sender to
        authenticate, and no request-chosen address is ever called.
        ``method``: ``(type, card brand, card country)`` from the page.
        Returns a ``_paycrm_refusal`` reason when the session takes no payment.
        """
        self.ensure_one()
        refusal = self._paycrm_refusal()
        if refusal:
            return refusal
        now = fields.Datetime.now()
        if paid:
            change = SQL("state = 'submitted'")
        else:
            change = SQL("capture_tries = COALESCE(capture_tries, 0) + 1")
        self.env.cr.execute(
            SQL(
                """UPDATE paycrm_link SET %s, write_uid = %s, write_date = %s
                    WHERE id = %s AND state = 'open' AND expires_at > %s
                RETURNING capture_tries""",
                change,
                self.env.uid,
                now,
                self.id,
                now,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(["state", "capture_tries", "write_date"])
        if not row:
            return self._paycrm_refusal() or "expired"
        gateway = self.gateway_id
        adapter = DemoAdapter(gateway._paycrm_config())
        obj = adapter.payment_object(
            self.session_ref,
            self.amount_minor,
            self.currency_id.name,
            self._paycrm_metadata(),
            paid=paid,
            method=method,
            attempt=0 if paid else row[0],
        )
        event = adapter.build_event(
            "payment.succeeded" if paid else "payment.failed",
            obj,
            event_id=f"evt_{obj['id']}",
        )
        self.env["paycrm.event"]._paycrm_store(gateway, adapter.payload(event), event)
        return ""
