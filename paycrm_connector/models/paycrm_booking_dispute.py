"""Disputes and payouts: money leaving the gateway's clearing account."""

from odoo import _, fields, models
from odoo.tools import format_amount

from .. import const
from .paycrm_event import PaycrmRetry


class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"

    def _paycrm_book_dispute(self, event, norm, adapter):
        payment, answer = self._paycrm_payment_or_retry(event, norm)
        if answer:
            return answer
        invoice = payment.invoice_id
        vals = {
            "invoice_id": invoice.id,
            "currency_id": invoice.currency_id.id,
            "payment_ref": payment.payment_ref,
            "object_status": norm.status,
        }
        if norm.money == "out":
            vals |= self._paycrm_dispute_withdraw(event, norm, adapter, payment)
        elif norm.money in ("back", "release"):
            vals |= self._paycrm_dispute_reinstate(event, norm, adapter, invoice)
        self._paycrm_dispute_flag(invoice, event, norm)
        if norm.kind == "dispute_closed" and (norm.status or "").lower() == "lost":
            self._paycrm_activity(
                invoice,
                _("Dispute lost"),
                _(
                    "The customer won dispute %(ref)s: the charged-back amount is "
                    "due again on %(invoice)s, and reminders chase it.",
                    ref=norm.object_ref,
                    invoice=invoice.display_name,
                ),
            )
        return "done", vals

    def _paycrm_dispute_flag(self, invoice, event, norm):
        """Set the invoice's Disputed flag from the disputes' own states.

        Each dispute's state is the status carried by its newest event (the
        gateway's event time; on a tie a final status wins, as a dispute never
        reopens), whatever order the events were delivered and processed in:
        a "closed: lost" processed before "created" leaves the invoice
        undisputed.
        """
        latest = {}

        def consider(ref, created, status):
            status = (status or "").lower()
            rank = (
                created or fields.Datetime.to_datetime("1970-01-01"),
                status in const.DISPUTE_FINAL_STATUSES,
            )
            if ref not in latest or rank >= latest[ref][0]:
                latest[ref] = (rank, status)

        applied = self.env["paycrm.event"].search_read(
            [
                ("invoice_id", "=", invoice.id),
                ("kind", "in", const.DISPUTE_KINDS),
                ("state", "=", "done"),
                ("object_status", "!=", False),
                ("id", "!=", event.id),
            ],
            ["object_ref", "created", "object_status"],
        )
        for row in applied:
            consider(row["object_ref"], row["created"], row["object_status"])
        consider(norm.object_ref, event.created, norm.status)
        disputed = any(
            status not in const.DISPUTE_FINAL_STATUSES
            for _rank, status in latest.values()
        )
        if invoice.paycrm_disputed != disputed:
            invoice.paycrm_disputed = disputed

    def _paycrm_dispute_withdraw(self, event, norm, adapter, payment):
        invoice = payment.invoice_id
        key = f"dispute-out:{norm.money_ref or norm.object_ref}"
        if self._paycrm_claim(event, key):
            return {}
        currency = invoice.currency_id
        amount = self._paycrm_amount(norm, currency, adapter)
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount, payment
        )
        receivable = self._paycrm_receivable(invoice)[:1].account_id
        clearing = self._paycrm_clearing(event)
        lines = [(receivable, amount, None), (clearing, -gross, None, settle)]
        if settle.compare_amounts(fee, 0) > 0:
            lines += [
                (event.gateway_id.fee_account_id, fee, None, settle),
                (clearing, -fee, None, settle),
            ]
        move = self._paycrm_post(
            event,
            _("Dispute %(ref)s: funds withdrawn", ref=norm.object_ref),
            lines,
            currency,
            invoice.commercial_partner_id,
        )
        invoice.paycrm_fee_amount += fee_here
        self._paycrm_reopen_invoice(invoice, payment.move_id, move)
        invoice._message_log(
            body=_(
                "Dispute %(ref)s: the gateway took %(amount)s back. The invoice is "
                "due again for that amount until the dispute is won.",
                ref=norm.object_ref,
                amount=format_amount(self.env, amount, currency),
            )
        )
        return {
            "move_id": move.id,
            "booking_key": key,
            "amount": amount,
            "fee_amount": fee_here,
            **self._paycrm_settle_vals(settle, gross, fee),
        }

    def _paycrm_dispute_reinstate(self, event, norm, adapter, invoice):
        money_ref = norm.money_ref or norm.object_ref
        withdrawn = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("booking_key", "=", f"dispute-out:{money_ref}"),
            ],
            limit=1,
        )
        if not withdrawn and norm.money == "release":
            return {}  # nothing was taken: nothing comes back
        if not withdrawn:
            raise PaycrmRetry(
                _(
                    "Dispute %(ref)s: funds not withdrawn yet; will retry.",
                    ref=norm.object_ref,
                )
            )
        key = f"dispute-in:{money_ref}"
        if self._paycrm_claim(event, key):
            return {}
        currency = invoice.currency_id
        amount = withdrawn.amount
        # A negative fee: the gateway gave its dispute fee back.
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount, withdrawn
        )
        fee_back, fee_back_here = -fee, -fee_here
        receivable = self._paycrm_receivable(invoice)[:1].account_id
        clearing = self._paycrm_clearing(event)
        lines = [(clearing, gross, None, settle), (receivable, -amount, None)]
        if settle.compare_amounts(fee_back, 0) > 0:
            lines += [
                (clearing, fee_back, None, settle),
                (event.gateway_id.fee_account_id, -fee_back, None, settle),
            ]
        move = self._paycrm_post(
            event,
            _("Dispute %(ref)s: funds reinstated", ref=norm.object_ref),
            lines,
            currency,
            invoice.commercial_partner_id,
        )
        # The money is back: it pays the invoice again when the withdrawal
        # re-opened it (see _paycrm_reopen_invoice), else it settles the
        # withdrawal's own open item.
        (
            self._paycrm_receivable(move)
            + self._paycrm_receivable(invoice)
            + self._paycrm_receivable(withdrawn.move_id)
        ).filtered(lambda line: not line.reconciled).reconcile()
        if settle.compare_amounts(fee_back, 0) > 0:
            invoice.paycrm_fee_amount -= fee_back_here
        # The fee given back is a negative fee: net = amount - fee, as the
        # gateway's balance transaction reports it (the Tie-out compares).
        return {
            "move_id": move.id,
            "booking_key": key,
            "amount": amount,
            "fee_amount": -max(fee_back_here, 0.0),
            **self._paycrm_settle_vals(settle, gross, -max(fee_back, 0.0)),
        }

    def _paycrm_reopen_invoice(self, invoice, payment_move, withdrawal):
        """Charge-back: the invoice is due again for the amount taken back.

        The payment's receivable line is taken off the invoice and set against
        the withdrawal instead (they cancel out); what the dispute left of the
        payment goes back on the invoice. Odoo then shows the invoice partly
        paid or not paid, its pay link asks for the amount again and, once the
        dispute is lost, reminders chase it like any open invoice.
        """
        paid = self._paycrm_receivable(payment_move)
        taken = self._paycrm_receivable(withdrawal)
        on_invoice = self._paycrm_receivable(invoice)
        partials = (paid.matched_debit_ids | paid.matched_credit_ids).filtered(
            lambda p: p.debit_move_id in on_invoice or p.credit_move_id in on_invoice
        )
        if not partials:
            return
        partials.unlink()
        (paid + taken).reconcile()
        (paid + on_invoice).filtered(lambda line: not line.reconciled).reconcile()

    # -------------------------------------------------------------- payouts

    def _paycrm_book_payout(self, event, norm, adapter):
        gateway = event.gateway_id
        currency = self.env["res.currency"].search(
            [("name", "=", norm.currency)], limit=1
        )
        if not currency:
            return self._paycrm_unmatched(
                _("Unknown currency %(cur)s.", cur=norm.currency)
            )
        bank = gateway._paycrm_payout_journal()
        transit = bank and bank._paycrm_payout_transit_account()
        if not transit:
            return self._paycrm_unmatched(
                _(
                    "Choose the bank journal payouts arrive in, on the gateway, and "
                    "give it an outstanding receipts account."
                )
            )
        amount = self._paycrm_amount(norm, currency, adapter)
        vals = {"currency_id": currency.id, "amount": amount}
        paid = self.env["paycrm.event"]
        if norm.kind == "payout_paid":
            key, sign = f"payout:{norm.object_ref}", 1
        else:
            paid = self.env["paycrm.event"].search(
                [
                    ("gateway_id", "=", gateway.id),
                    ("booking_key", "=", f"payout:{norm.object_ref}"),
                ],
                limit=1,
            )
            if not paid:
                return "done", vals | {
                    "last_error": _("Payout was never booked as paid.")
                }
            key, sign = f"payout-back:{norm.object_ref}", -1
        if self._paycrm_claim(event, key):
            return "done", vals
        clearing = self._paycrm_clearing(event)
        # Clearing -> the bank journal's outstanding receipts, as Odoo books a
        # payment: the bank statement line of the payout then matches this
        # entry (see account.bank.statement.line), one line, never counted twice.
        move = self._paycrm_post(
            event,
            _("Payout %(ref)s", ref=norm.object_ref),
            [
                (transit, sign * amount, None),
                (clearing, -sign * amount, None),
            ],
            currency,
        )
        if paid:
            # A failed payout cancels the one booked as paid.
            (move.line_ids + paid.move_id.line_ids).filtered(
                lambda line: line.account_id == transit and not line.reconciled
            ).reconcile()
        return "done", vals | {"move_id": move.id, "booking_key": key}
