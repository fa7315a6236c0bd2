"""Payments booked in batches: one create, one post, one reconcile."""

import logging

from odoo import _, fields, models

_logger = logging.getLogger(__name__)


class PaycrmBookingBatch(models.AbstractModel):
    _name = "paycrm.booking.batch"
    _description = "Gateway Payments Booked in Batches"

    def _paycrm_move_vals(self, event, ref, lines, currency, partner=None):
        """Values of one entry in the gateway's clearing journal.

        ``lines``: ``(account, amount in currency, partner?)``, debit positive.
        """
        company = event.company_id
        date = fields.Date.context_today(self)
        line_vals = []
        for account, amount, line_partner in lines:
            balance = currency._convert(amount, company.currency_id, company, date)
            line_vals.append(
                fields.Command.create(
                    {
                        "name": ref,
                        "account_id": account.id,
                        "partner_id": (
                            line_partner or partner or self.env["res.partner"]
                        ).id,
                        "currency_id": currency.id,
                        "amount_currency": amount,
                        "balance": balance,
                    }
                )
            )
        return {
            "move_type": "entry",
            "journal_id": event.gateway_id.journal_id.id,
            "date": date,
            "ref": ref,
            "partner_id": partner.id if partner else False,
            "line_ids": line_vals,
        }

    def _paycrm_create_moves(self, vals_list):
        """Create and post the processor's entries, in one batch.

        Balanced, tax-free entries of our own: no chatter on their creation or
        posting (the event links to them) and no invoice line synchronisation
        (they are no invoices); the balance check still runs.
        """
        moves = (
            self.env["account.move"]
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_notrack=True,
                skip_invoice_sync=True,
            )
            .create(vals_list)
        )
        moves._post(soft=False)
        # Back to the caller's context: reconciling invoices keeps their
        # payment status tracking for humans.
        return moves.with_env(self.env)

    def _paycrm_book_plans(self, plans):
        """Book the payment plans of one batch and mark their events done."""
        moves = self._paycrm_create_moves([plan["move_vals"] for plan in plans])
        self._paycrm_reconcile_payments(plans, moves)
        for plan, move in zip(plans, moves, strict=True):
            state, vals = self._paycrm_finish_payment(plan, move)
            event = plan["event"]
            event._paycrm_quiet().write({**vals, "state": state, "next_try": False})
            _logger.info(
                "paycrm event %s gateway %s %s %s: %s",
                event.id,
                event.gateway_id.id,
                event.external_id,
                event.event_type,
                state,
            )

    def _paycrm_reconcile_payments(self, plans, moves):
        """Each invoice's receivable with its payment lines, in one call."""
        booking = self.env["paycrm.booking"]
        groups = {}
        for plan, move in zip(plans, moves, strict=True):
            invoice = plan["invoice"]
            if invoice.id not in groups:
                groups[invoice.id] = booking._paycrm_receivable(invoice).with_env(
                    self.env
                )
            groups[invoice.id] |= booking._paycrm_receivable(move)
        self.env["account.move.line"]._reconcile_plan(
            [
                lines.filtered(lambda line: not line.reconciled)
                for lines in groups.values()
            ]
        )

    def _paycrm_finish_payment(self, plan, move):
        """What follows a booked payment; return the event's ``(state, vals)``."""
        booking = self.env["paycrm.booking"]
        invoice, amount, fee = plan["invoice"], plan["amount"], plan["fee"]
        currency = invoice.currency_id
        # Our own counters only: no invoice line changes to synchronise.
        invoice.with_context(skip_invoice_sync=True).write(
            {
                "paycrm_amount_received": invoice.paycrm_amount_received + amount,
                "paycrm_fee_amount": invoice.paycrm_fee_amount + fee,
                "paycrm_gateway_ref": plan["ref"],
            }
        )
        # Credit the reminder that preceded this payment (reminder effectiveness).
        self.env["paycrm.reminder.log"]._paycrm_credit_payments(invoice)
        if plan["session_ref"]:
            self.env["paycrm.link"]._paycrm_mark_paid(
                plan["session_ref"], plan["event"].gateway_id
            )
        residual = plan["residual"]
        if currency.compare_amounts(amount, residual) > 0:
            booking._paycrm_activity(
                invoice,
                _("Overpayment to review"),
                _(
                    "%(extra)s %(cur)s received above the amount due: left as a "
                    "credit on the customer.",
                    extra=amount - residual,
                    cur=currency.name,
                ),
            )
        return "done", plan["vals"] | {
            "move_id": move.id,
            "booking_key": plan["key"],
            "amount": amount,
            "fee_amount": fee,
        }
