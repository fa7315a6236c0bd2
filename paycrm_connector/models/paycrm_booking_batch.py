"""Payments booked in batches: one create, one post, one reconcile."""

import logging

from odoo import _, fields, models

_logger = logging.getLogger(__name__)


class PaycrmBookingBatch(models.AbstractModel):
    _name = "paycrm.booking.batch"
    _description = "Gateway Payments Booked in Batches"

    def _paycrm_move_vals(self, event, ref, lines, currency, partner=None):
        """Values of one entry in the gateway's clearing journal.

        ``lines``: ``(account, amount, partner?[, line currency])``, debit
        positive, the amount in the line's currency (``currency`` unless
        given). An entry that moves money to or from the customer's
        receivable is the journal entry of an ``account.payment`` (see
        ``_paycrm_create_moves``).

        When the gateway's balance settles in another currency than the
        invoice's, the clearing lines are in the balance's currency and the
        receivable in the invoice's: both carry the same company-currency
        value (the one the gateway really moved), so reconciling with the
        invoice books Odoo's exchange difference.
        """
        company = event.company_id
        date = fields.Date.context_today(self)
        rows = []
        for account, amount, line_partner, *rest in lines:
            line_currency = rest[0] if rest else currency
            balance = line_currency._convert(amount, company.currency_id, company, date)
            rows.append([account, amount, line_partner, line_currency, balance])
        if len({row[3] for row in rows}) > 1:
            # A line in a foreign currency takes what rounding and rates
            # leave: the receivable, unless it is in the company's currency.
            receivable = next(
                row for row in rows if row[0].account_type == "asset_receivable"
            )
            absorbing = (
                receivable
                if receivable[3] != company.currency_id
                else next(row for row in rows if row[3] != company.currency_id)
            )
            absorbing[4] -= sum(row[4] for row in rows)
        line_vals = []
        receivable, receivable_account = 0.0, None
        for account, amount, line_partner, line_currency, balance in rows:
            if account.account_type == "asset_receivable":
                receivable += amount
                receivable_account = account
            line_vals.append(
                fields.Command.create(
                    {
                        "name": ref,
                        "account_id": account.id,
                        "partner_id": (
                            line_partner or partner or self.env["res.partner"]
                        ).id,
                        "currency_id": line_currency.id,
                        "amount_currency": amount,
                        "balance": company.currency_id.round(balance),
                    }
                )
            )
        vals = {
            "move_type": "entry",
            "journal_id": event.gateway_id.journal_id.id,
            "date": date,
            "ref": ref,
            "partner_id": partner.id if partner else False,
            "line_ids": line_vals,
        }
        if not currency.is_zero(receivable):
            vals["paycrm_payment"] = {
                # Money in credits the receivable; a refund or a charge-back
                # debits it.
                "payment_type": "inbound" if receivable < 0 else "outbound",
                "partner_type": "customer",
                "partner_id": partner.id if partner else False,
                "destination_account_id": receivable_account.id,
                "amount": abs(receivable),
                "currency_id": currency.id,
                "journal_id": event.gateway_id.journal_id.id,
                "date": date,
                "memo": ref,
            }
        return vals

    def _paycrm_create_moves(self, vals_list):
        """Create and post the processor's entries, in one batch.

        Balanced, tax-free entries of our own: no chatter on their creation or
        posting (the event links to them) and no invoice line synchronisation
        (they are no invoices); the balance check still runs.

        Money to or from a customer is an ``account.payment`` whose journal
        entry is ours (created in the same batch): Odoo's payment-state logic
        then reads a deposit plus a credit note, or a credit note settled by a
        gateway refund, as *Paid*, not *Reversed*. Its liquidity line is on the
        clearing journal's own account, so Odoo counts it as matched.
        """
        quiet = {
            "tracking_disable": True,
            "mail_create_nolog": True,
            "mail_notrack": True,
            "skip_invoice_sync": True,
        }
        vals_list = [dict(vals) for vals in vals_list]
        wanted = [
            (index, vals.pop("paycrm_payment"))
            for index, vals in enumerate(vals_list)
            if "paycrm_payment" in vals
        ]
        payments = self.env["account.payment"]
        if wanted:
            payments = payments.with_context(**quiet).create(
                [self._paycrm_payment_vals(pay_vals) for _index, pay_vals in wanted]
            )
            for (index, _pay_vals), payment in zip(wanted, payments, strict=True):
                vals_list[index]["origin_payment_id"] = payment.id
        moves = self.env["account.move"].with_context(**quiet).create(vals_list)
        moves._post(soft=False)
        for (index, _pay_vals), payment in zip(wanted, payments, strict=True):
            # Created as drafts: a confirmed payment needs its entry (Odoo's
            # constraint), which exists only now.
            payment.write({"move_id": moves[index].id, "state": "paid"})
        # Back to the caller's context: reconciling invoices keeps their
        # payment status tracking for humans.
        return moves.with_env(self.env)

    def _paycrm_payment_vals(self, vals):
        """Complete ``account.payment`` values for a gateway money movement."""
        journal = self.env["account.journal"].browse(vals["journal_id"])
        method = journal._get_available_payment_method_lines(vals["payment_type"])
        return vals | {
            "payment_method_line_id": method[:1].id,
            "outstanding_account_id": journal.default_account_id.id,
        }

    def _paycrm_book_plans(self, plans):
        """Book the payment plans of one batch and mark their events done."""
        moves = self._paycrm_create_moves([plan["move_vals"] for plan in plans])
        self._paycrm_reconcile_payments(plans, moves)
        for plan, move in zip(plans, moves, strict=True):
            state, vals = self._paycrm_finish_payment(plan, move)
            event = plan["event"]
            event._paycrm_quiet().write(
                {"last_error": False, **vals, "state": state, "next_try": False}
            )
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
        receipt = plan["event"]._paycrm_wants_receipt(invoice)
        if receipt:
            plan["event"]._paycrm_trigger_receipts()
        return "done", plan["vals"] | {
            "receipt_pending": receipt,
            "move_id": move.id,
            "booking_key": plan["key"],
            "amount": amount,
            "fee_amount": fee,
        }
