"""The poster: books one ``Booking`` plan or a batch of them.

One create, one post and one reconcile per batch, whatever the plans' kinds;
then what follows on each invoice, and each event written done (or what its
plan says). Single events are a batch of one.
"""

from odoo import _, fields, models


class PaycrmBookingPoster(models.AbstractModel):
    _name = "paycrm.booking.poster"
    _description = "Gateway Event Bookings Posted"

    def _paycrm_post(self, bookings):
        """Book ``bookings`` (``Booking`` plans, in the order they happened)."""
        vals_list = [
            self._paycrm_move_vals(booking.event, entry)
            for booking in bookings
            for entry in booking.entries
        ]
        created = iter(self._paycrm_create_moves(vals_list) if vals_list else ())
        pairs = []
        for booking in bookings:
            # The event links to its first new entry, or to the reversal its
            # plan asks for.
            moves = [next(created) for _entry in booking.entries]
            move = moves[0] if moves else self.env["account.move"]
            if booking.reverse:
                move = booking.reverse._reverse_moves(cancel=False)
                move.action_post()
            pairs.append((booking, move))
        self._paycrm_reconcile(pairs)
        self._paycrm_plan_residuals(bookings)
        for booking, move in pairs:
            self._paycrm_finish(booking, move)

    def _paycrm_move_vals(self, event, entry):
        """Values of one ``Entry`` in the gateway's clearing journal.

        Its lines' amounts are debit positive, in the line's currency (the
        entry's unless given). An entry that moves money to or from the customer's
        receivable is the journal entry of an ``account.payment`` (see
        ``_paycrm_create_moves``).

        When the gateway's balance settles in another currency than the
        invoice's, the clearing lines are in the balance's currency and the
        receivable in the invoice's: both carry the same company-currency
        value (the one the gateway really moved), so reconciling with the
        invoice books Odoo's exchange difference.
        """
        company = event.company_id
        currency, partner, ref = entry.currency, entry.partner, entry.ref
        date = fields.Date.context_today(self)
        rows = []
        for line in entry.lines:
            line_currency = line.currency or currency
            balance = line_currency._convert(
                line.amount, company.currency_id, company, date
            )
            rows.append([line.account, line.amount, line_currency, balance])
        if len({row[2] for row in rows}) > 1:
            # A line in a foreign currency takes what rounding and rates
            # leave: the receivable, unless it is in the company's currency.
            receivable = next(
                row for row in rows if row[0].account_type == "asset_receivable"
            )
            absorbing = (
                receivable
                if receivable[2] != company.currency_id
                else next(row for row in rows if row[2] != company.currency_id)
            )
            absorbing[3] -= sum(row[3] for row in rows)
        line_vals = []
        receivable, receivable_account = 0.0, None
        for account, amount, line_currency, balance in rows:
            if account.account_type == "asset_receivable":
                receivable += amount
                receivable_account = account
            line_vals.append(
                fields.Command.create(
                    {
                        "name": ref,
                        "account_id": account.id,
                        "partner_id": partner.id if partner else False,
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

    # ------------------------------------------------------------ reconcile

    def _paycrm_reconcile(self, pairs):
        """Each plan's entry with the open items it settles, in one call (the
        payments of one invoice in one group: its receivable and theirs); then
        the charge-backs."""
        booking_model = self.env["paycrm.booking"]
        groups = {}
        for booking, move in pairs:
            if booking.reconcile_with is None or not move:
                continue
            account = booking.reconcile_account
            if account:
                lines = move.line_ids.filtered(
                    lambda line, account=account: line.account_id == account
                )
            else:
                lines = booking_model._paycrm_receivable(move)
            key = tuple(booking.reconcile_with.ids)
            if key not in groups:
                groups[key] = booking.reconcile_with.with_env(self.env)
            groups[key] |= lines
        if groups:
            self.env["account.move.line"]._reconcile_plan(
                [
                    lines.filtered(lambda line: not line.reconciled)
                    for lines in groups.values()
                ]
            )
        for booking, move in pairs:
            if booking.reopen:
                self._paycrm_reopen_invoice(booking.invoice, booking.reopen, move)

    def _paycrm_reopen_invoice(self, invoice, payment_move, withdrawal):
        """Charge-back: the invoice is due again for the amount taken back.

        The payment's receivable line is taken off the invoice and set against
        the withdrawal instead (they cancel out); what the dispute left of the
        payment goes back on the invoice. Odoo then shows the invoice partly
        paid or not paid, its pay link asks for the amount again and, once the
        dispute is lost, reminders chase it like any open invoice.
        """
        receivable = self.env["paycrm.booking"]._paycrm_receivable
        paid = receivable(payment_move)
        taken = receivable(withdrawal)
        on_invoice = receivable(invoice)
        partials = (paid.matched_debit_ids | paid.matched_credit_ids).filtered(
            lambda p: p.debit_move_id in on_invoice or p.credit_move_id in on_invoice
        )
        if not partials:
            return
        partials.unlink()
        (paid + taken).reconcile()
        (paid + on_invoice).filtered(lambda line: not line.reconciled).reconcile()

    # --------------------------------------------------------------- finish

    def _paycrm_plan_residuals(self, bookings):
        """Partial payments of one invoice in a batch: each sees what the ones
        before it left due, as if booked in turn."""
        before = {}
        for booking in bookings:
            if not booking.paid:
                continue
            invoice_id = booking.invoice.id
            booking.residual = max(booking.residual - before.get(invoice_id, 0.0), 0.0)
            before[invoice_id] = before.get(invoice_id, 0.0) + booking.amount

    def _paycrm_finish(self, booking, move):
        """What follows on the invoice; then the event written as planned."""
        invoice = booking.invoice
        counters = {}
        if booking.paid or booking.received:
            counters["paycrm_amount_received"] = (
                invoice.paycrm_amount_received + booking.received
            )
        if booking.paid or booking.fees:
            counters["paycrm_fee_amount"] = invoice.paycrm_fee_amount + booking.fees
        if booking.paid:
            counters["paycrm_gateway_ref"] = booking.gateway_ref
        if counters:
            # Our own counters only: no invoice line changes to synchronise.
            invoice.with_context(skip_invoice_sync=True).write(counters)
        if booking.disputed is not None and invoice.paycrm_disputed != booking.disputed:
            invoice.paycrm_disputed = booking.disputed
        if booking.note:
            invoice._message_log(body=booking.note)
        for summary, note in booking.activities:
            self._paycrm_activity(invoice, summary, note)
        if booking.failed_session:
            # The money once in flight never came: the link asks again.
            self.env["paycrm.link"]._paycrm_mark_failed(
                booking.failed_session, booking.event.gateway_id
            )
        values = booking.event_values()
        if booking.paid:
            values["receipt_pending"] = self._paycrm_finish_payment(booking)
        if move:
            values["move_id"] = move.id
        booking.event._paycrm_quiet().write(
            {
                "last_error": booking.message or False,
                **values,
                "state": booking.state,
                "next_try": False,
            }
        )

    def _paycrm_finish_payment(self, booking):
        """What follows a customer's payment; return whether a receipt is on
        its way."""
        invoice, event = booking.invoice, booking.event
        currency = invoice.currency_id
        # Credit the reminder that preceded this payment (reminder effectiveness).
        self.env["paycrm.reminder.log"]._paycrm_credit_payments(invoice)
        if booking.session_ref:
            self.env["paycrm.link"]._paycrm_mark_paid(
                booking.session_ref, event.gateway_id
            )
        residual = booking.residual
        if currency.compare_amounts(booking.amount, residual) > 0:
            self._paycrm_activity(
                invoice,
                _("Overpayment to review"),
                _(
                    "%(extra)s %(cur)s received above the amount due: left as a "
                    "credit on the customer.",
                    extra=booking.amount - residual,
                    cur=currency.name,
                ),
            )
        receipt = event._paycrm_wants_receipt(invoice)
        if receipt:
            event._paycrm_trigger_receipts()
        return receipt

    def _paycrm_activity(self, record, summary, note):
        record.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=record.invoice_user_id.id or self.env.user.id,
        )
