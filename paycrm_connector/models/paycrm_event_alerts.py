"""Alert rules fed by processed gateway events (failed attempts, disputes,
refund share). Kept out of ``paycrm_event.py``, which is the intake and
processor: this side only reads what the processor recorded."""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

# What the gateway said: never rewritten once stored (the payload may only be
# pruned to empty, see DESIGN.md "Secrets stay secret").
IMMUTABLE_EVENT_FIELDS = {
    "gateway_id",
    "company_id",
    "external_id",
    "event_type",
    "created",
    "livemode",
}


class PaycrmEvent(models.Model):
    _inherit = "paycrm.event"

    def write(self, vals):
        if IMMUTABLE_EVENT_FIELDS & vals.keys() or vals.get("payload"):
            raise UserError(
                _(
                    "Gateway events are an immutable log: what the gateway sent "
                    "cannot be edited. Reprocess or match the event instead."
                )
            )
        if vals.get("state") == "received":
            for event in self.filtered(lambda e: e.state != "received"):
                event.message_post(
                    body=_(
                        "Reprocessed by %(user)s (was %(state)s).",
                        user=self.env.user.name,
                        state=event.state,
                    )
                )
        res = super().write(vals)
        if vals.get("state") == "done":
            self.env["paycrm.alert"]._paycrm_alert_touch("events", self.ids)
            # Failed attempts and preferred gateway live on the profile.
            self.env["paycrm.profile"]._paycrm_profile_touch(
                self.invoice_id.commercial_partner_id.ids
            )
        return res


class PaycrmAlert(models.Model):
    _inherit = "paycrm.alert"

    @api.model
    def _paycrm_check_events(self, event_ids):
        events = self.env["paycrm.event"].browse(event_ids).exists()
        for event in events.filtered(lambda e: e.state == "done"):
            if event.kind == "payment_failed" and event.invoice_id:
                self._paycrm_check_failed(event)
            elif event.kind == "dispute_opened":
                self._paycrm_alert_dispute(event)
            elif event.kind == "refund_succeeded":
                self._paycrm_check_refund_share(event)

    def _paycrm_event_time(self, event):
        return event.created or event.create_date

    def _paycrm_check_failed(self, event):
        company = event.company_id
        hours = max(company.paycrm_alert_failed_hours, 1)
        at = self._paycrm_event_time(event)
        bucket = int(at.timestamp() // (hours * 3600))
        invoice = event.invoice_id
        partner = invoice.commercial_partner_id
        scopes = [
            ("invoice", [("invoice_id", "=", invoice.id)], invoice.id),
            (
                "customer",
                [("invoice_id.commercial_partner_id", "=", partner.id)],
                partner.id,
            ),
        ]
        for scope, domain, res_id in scopes:
            failed = self.env["paycrm.event"].search_count(
                [
                    ("company_id", "=", company.id),
                    ("kind", "=", "payment_failed"),
                    ("state", "=", "done"),
                    ("created", ">", at - timedelta(hours=hours)),
                    ("created", "<=", at),
                    *domain,
                ]
            )
            if failed < company.paycrm_alert_failed_count:
                continue
            self._paycrm_raise(
                {
                    "company_id": company.id,
                    "kind": "failed_attempts",
                    "partner_id": partner.id,
                    "invoice_id": invoice.id if scope == "invoice" else False,
                    "event_id": event.id,
                    "window_key": f"failed_attempts:{scope}:{res_id}:{hours}h:{bucket}",
                    "message": _(
                        "%(count)s failed payment attempts on %(what)s within "
                        "%(hours)s hours.",
                        count=failed,
                        what=invoice.name if scope == "invoice" else partner.name,
                        hours=hours,
                    ),
                }
            )

    def _paycrm_alert_dispute(self, event):
        self._paycrm_raise(
            {
                "company_id": event.company_id.id,
                "kind": "dispute_opened",
                "partner_id": event.invoice_id.commercial_partner_id.id,
                "invoice_id": event.invoice_id.id,
                "event_id": event.id,
                "currency_id": event.currency_id.id,
                "amount": event.amount,
                "window_key": "dispute_opened:%s:%s"
                % (event.gateway_id.id, event.object_ref or event.external_id),
                "message": _(
                    "A dispute of %(amount)s was opened at %(gateway)s for "
                    "%(invoice)s.",
                    amount=format_amount(self.env, event.amount, event.currency_id),
                    gateway=event.gateway_id.name,
                    invoice=event.invoice_id.name or _("an unknown invoice"),
                ),
            }
        )

    def _paycrm_check_refund_share(self, event):
        company = event.company_id
        at = self._paycrm_event_time(event)
        start = fields.Datetime.to_datetime(at.date().replace(day=1))
        domain = [
            ("company_id", "=", company.id),
            ("state", "=", "done"),
            ("currency_id", "=", event.currency_id.id),
            ("created", ">=", start),
            ("created", "<=", at),
        ]
        totals = dict(
            self.env["paycrm.event"]._read_group(
                [*domain, ("kind", "in", ("payment_succeeded", "refund_succeeded"))],
                groupby=["kind"],
                aggregates=["amount:sum"],
            )
        )
        paid = totals.get("payment_succeeded", 0.0)
        refunded = totals.get("refund_succeeded", 0.0)
        share = 100.0 * refunded / paid if paid else 100.0
        if share <= company.paycrm_alert_refund_share:
            return
        self._paycrm_raise(
            {
                "company_id": company.id,
                "kind": "refund_share",
                "event_id": event.id,
                "currency_id": event.currency_id.id,
                "amount": refunded,
                "window_key": f"refund_share:{at:%Y-%m}:{event.currency_id.name}",
                "message": _(
                    "Refunds reached %(share)s%% of this month's payments in "
                    "%(currency)s (%(refunded)s of %(paid)s; alert above %(limit)s%%).",
                    share=round(share),
                    currency=event.currency_id.name,
                    refunded=format_amount(self.env, refunded, event.currency_id),
                    paid=format_amount(self.env, paid, event.currency_id),
                    limit=company.paycrm_alert_refund_share,
                ),
            }
        )
