"""What the reminder side knows about an invoice.

The date reminders count from, why an invoice gets no reminder today, which
policy chases it, and what a message about it may truthfully say (the values the
templates, the SMS text and the Preview read). The run (paycrm.reminder.policy),
the dispatch, the Preview and the templates all ask here, so the facts are
decided once.
"""

from datetime import timedelta

from odoo import _, api, fields, models

from .. import const


class PaycrmReminderPlanner(models.AbstractModel):
    _name = "paycrm.reminder.planner"
    _description = "Payment Reminder Planner"

    @api.model
    def _paycrm_due_date(self, invoice):
        """The date reminder offsets count from: the due date, else the
        invoice date."""
        invoice.ensure_one()
        return invoice.invoice_date_due or invoice.invoice_date

    @api.model
    def _paycrm_skip_reason(self, invoice, today, policy):
        """Why ``invoice`` gets no reminder today (a translated string), or False.

        Override point: other modules add reasons by calling super() first and
        returning their own reason when it is False.
        """
        invoice.ensure_one()
        if invoice.state != "posted":
            return _("Not posted")
        if invoice.payment_state in ("paid", "in_payment", "reversed"):
            return _("Paid")
        if invoice.paycrm_disputed:
            return _("Disputed at the gateway")
        if invoice._paycrm_is_payment_pending():
            return _("Payment pending (direct debit in progress)")
        if (
            invoice.paycrm_promise_date
            and today
            <= invoice.paycrm_promise_date + timedelta(days=policy.promise_grace_days)
        ):
            return _(
                "Promise to pay by %(date)s",
                date=fields.Date.to_string(invoice.paycrm_promise_date),
            )
        return False

    @api.model
    def _paycrm_policy_for(self, invoice):
        """The policy that chases ``invoice``: its customer's, else the
        company's default."""
        invoice.ensure_one()
        partner = invoice.commercial_partner_id.with_company(invoice.company_id)
        return (
            partner.paycrm_reminder_policy_id
            or invoice.company_id.paycrm_reminder_policy_id
        )

    @api.model
    def _paycrm_reminder_values(self, invoices, today=None, stages=None, reminded=None):
        """What a reminder about ``invoices`` can truthfully say.

        The one place the reminder wording is decided from (runs, the Preview
        and the template editor's preview): one line per invoice with its real
        due state on ``today`` (``not_due``, ``due_today``, ``late``), and
        whether a reminder about it was already *sent* before (the reminder
        log; queued, failed and bounced ones never reached the customer).
        ``stages``: {invoice id: stage} of a run, whose *Include Pay Link*
        applies; ``reminded``: the ``_paycrm_reminded_invoice_ids()`` of a
        whole batch, read once.

        The pay button is the invoice's stable URL, and only while one of our
        gateways can take the payment: the same test as the invoice email's
        *Pay online* button.
        """
        today = today or fields.Date.context_today(self)
        stages = stages or {}
        if reminded is None:
            reminded = self._paycrm_reminded_invoice_ids(invoices)
        lines = []
        for move in invoices:
            due_date = self._paycrm_due_date(move)
            days = (today - due_date).days
            stage = stages.get(move.id)
            # sudo: the link goes to the customer in this very message, and
            # automation rules may run as a user without the connector group.
            sudo_move = move.sudo()
            link = (
                (not stage or stage.include_pay_link)
                and sudo_move._paycrm_is_payable()
                and self.env["paycrm.link.url"]._paycrm_pay_url(sudo_move)
            )
            lines.append(
                {
                    "invoice": move,
                    "stage": stage,
                    "days_late": days,
                    "days": abs(days),
                    "due_state": "late"
                    if days > 0
                    else ("due_today" if days == 0 else "not_due"),
                    "reminded": move.id in reminded,
                    "residual": move.amount_residual,
                    "currency": move.currency_id,
                    "due_date": due_date,
                    "link": link or False,
                }
            )
        counts = {
            state: sum(1 for line in lines if line["due_state"] == state)
            for state in ("not_due", "due_today", "late")
        }
        followed = sum(1 for line in lines if line["reminded"])
        follow_up = False
        if followed:
            follow_up = "all" if followed == len(lines) else "some"
        return dict(
            counts,
            lines=lines,
            count=len(lines),
            reminded=followed,
            follow_up=follow_up,
            links=any(line["link"] for line in lines),
        )

    @api.model
    def _paycrm_reminded_invoice_ids(self, invoices):
        """Ids of ``invoices`` a reminder was already sent about."""
        # sudo: the log decides the wording of what the customer gets; a user
        # rendering the template may not read it.
        rows = (
            self.env["paycrm.reminder.log"]
            .sudo()
            ._read_group(
                [
                    ("invoice_id", "in", invoices.ids),
                    ("result", "in", const.REMINDER_DELIVERED),
                ],
                ["invoice_id"],
            )
        )
        return {invoice.id for (invoice,) in rows}

    @api.model
    def _paycrm_due_status(self, invoice, today):
        """'5 days late', 'due today', 'due in 3 days': an SMS-sized due state,
        in the context language."""
        days = (today - self._paycrm_due_date(invoice)).days
        if days > 0:
            return _("%(days)s days late", days=days)
        if days == 0:
            return _("due today")
        return _("due in %(days)s days", days=-days)
