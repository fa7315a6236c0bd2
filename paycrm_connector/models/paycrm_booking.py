"""Gateway events onto accounting: one small entry per money movement."""

import hashlib

from odoo import _, api, models
from odoo.tools import SQL, LazyTranslate

from ..gateways import PayloadError, money
from .paycrm_event import PaycrmRetry

_lt = LazyTranslate(__name__)

# Kinds whose handler is a method ``_paycrm_book_<kind>``.
HANDLERS = {
    "payment_succeeded": "_paycrm_book_payment",
    "refund_succeeded": "_paycrm_book_refund",
    "refund_failed": "_paycrm_book_refund_failed",
    "dispute_opened": "_paycrm_book_dispute",
    "dispute_funds_withdrawn": "_paycrm_book_dispute",
    "dispute_funds_reinstated": "_paycrm_book_dispute",
    "dispute_closed": "_paycrm_book_dispute",
    "payout_paid": "_paycrm_book_payout",
    "payout_failed": "_paycrm_book_payout",
}


class PaycrmBooking(models.AbstractModel):
    _name = "paycrm.booking"
    _description = "Gateway Event Booking"

    @api.model
    def _paycrm_apply(self, event):
        """Return ``(state, vals)`` for ``event``; raise to retry or fail."""
        adapter = event.gateway_id._paycrm_adapter()
        try:
            norm = adapter.parse_event(event._paycrm_json())
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, PayloadError):
                raise
            # Signed, but its object is not shaped as the gateway's (a string
            # where an object belongs, text for an amount): it will never
            # parse, so it fails now with the reason instead of retrying.
            raise PayloadError(
                "data",
                _lt("is not shaped as this gateway's events (%(error)s)", error=exc),
            ) from exc
        if norm.kind == "other":
            return "ignored", {
                "kind": "other",
                "last_error": norm.extra.get("reason")
                or _("Event type not handled by the connector."),
            }
        norm = adapter.enrich_event(norm)
        vals = {
            "kind": norm.kind,
            "object_ref": norm.object_ref,
            "payment_ref": norm.payment_ref or False,
            "charge_ref": norm.extra.get("charge") or False,
            **self._paycrm_method_vals(norm),
        }
        handler = HANDLERS.get(norm.kind)
        if not handler:
            # Failed, pending or canceled payments and expired sessions move
            # no money: keep the record, linked to its invoice when known.
            if norm.kind in ("payment_failed", "payment_canceled") and norm.session_ref:
                # The money once in flight never came: the link asks again.
                self.env["paycrm.link"]._paycrm_mark_failed(
                    norm.session_ref, event.gateway_id
                )
            invoice = self._paycrm_find_invoice(event, norm)
            return "done", vals | {"invoice_id": invoice.id or False}
        state, more = getattr(self, handler)(event, norm, adapter)
        if state == "planned":
            # A payment plan: the event's values go with it to the batch.
            more["vals"] = vals | more["vals"]
            return state, more
        return state, vals | more

    def _paycrm_method_vals(self, norm):
        country = self.env["res.country"]
        if norm.card_country:
            country = country.search(
                [("code", "=", norm.card_country.upper())], limit=1
            )
        return {
            "payment_method": norm.payment_method or False,
            "card_brand": norm.card_brand or False,
            "card_country_id": country.id,
        }

    # ------------------------------------------------------------- matching

    def _paycrm_find_invoice(self, event, norm):
        if not norm.invoice_id or (norm.db and norm.db != self.env.cr.dbname):
            return self.env["account.move"]
        invoice = self.env["account.move"].browse(norm.invoice_id).exists()
        if invoice.company_id != event.company_id:
            return self.env["account.move"]
        return invoice

    def _paycrm_amount(self, norm, currency, adapter, minor=None):
        exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
        value = norm.amount_minor if minor is None else minor
        return currency.round(float(money.from_minor(value, exponent)))

    def _paycrm_settlement(self, norm, currency, adapter, amount, payment=None):
        """What moved on the gateway's balance, in the balance's currency.

        Returns ``(balance currency, gross, fee, fee in currency)``: the
        gateway's figures when it settles in another currency than
        ``currency`` (its fee is always in the balance's currency), else
        ``amount`` itself. A refund or dispute the gateway reports no
        settlement for takes the rate its ``payment`` (a booked event)
        settled at.
        """
        settle, gross = currency, amount
        if norm.settle_currency and norm.settle_currency != currency.name:
            settle = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", norm.settle_currency)], limit=1)
            )
            if not settle:
                raise PayloadError(
                    "currency",
                    _lt(
                        "names an unknown currency (%(code)s)",
                        code=norm.settle_currency,
                    ),
                )
            gross = self._paycrm_amount(norm, settle, adapter, norm.settle_amount_minor)
        elif payment and payment._paycrm_settles_apart() and payment.amount:
            settle = payment.settle_currency_id
            gross = settle.round(amount * payment.settle_amount / payment.amount)
        fee = self._paycrm_amount(norm, settle, adapter, norm.fee_minor)
        fee_here = fee
        if settle != currency:
            fee_here = currency.round(fee * amount / gross) if gross else 0.0
        return settle, gross, fee, fee_here

    def _paycrm_settle_vals(self, settle, gross, fee):
        return {
            "settle_currency_id": settle.id,
            "settle_amount": gross,
            "settle_fee": fee,
        }

    def _paycrm_unmatched(self, message):
        return "unmatched", {"last_error": message}

    def _paycrm_not_ours(self, norm):
        """A payment the connector did not create: never booked twice."""
        tx_model = self.env.get("payment.transaction")
        if tx_model is not None and norm.payment_ref:
            tx = tx_model.search(
                [("provider_reference", "=", norm.payment_ref)], limit=1
            )
            if tx:
                return "ignored", {
                    "last_error": _(
                        "Handled by Odoo's payment module (transaction %(ref)s).",
                        ref=tx.reference,
                    )
                }
        return "ignored", {"last_error": _("Payment not created by the connector.")}

    def _paycrm_check_invoice(self, event, norm, adapter):
        """The invoice a payment belongs to, or an ``unmatched`` answer."""
        if not norm.invoice_id:
            return None, self._paycrm_not_ours(norm)
        if norm.db and norm.db != self.env.cr.dbname:
            return None, self._paycrm_unmatched(
                _("The payment belongs to database %(db)s.", db=norm.db)
            )
        invoice = self._paycrm_find_invoice(event, norm)
        if (
            not invoice
            or invoice.move_type != "out_invoice"
            or invoice.state != "posted"
        ):
            return None, self._paycrm_unmatched(
                _(
                    "Invoice %(id)s not found among posted invoices of this company.",
                    id=norm.invoice_id,
                )
            )
        return invoice, None

    def _paycrm_check_amount(self, invoice, norm, adapter):
        currency = invoice.currency_id
        if norm.currency != currency.name:
            return None, self._paycrm_unmatched(
                _(
                    "Currency %(got)s does not match the invoice's %(want)s.",
                    got=norm.currency,
                    want=currency.name,
                )
            )
        amount = self._paycrm_amount(norm, currency, adapter)
        if currency.compare_amounts(amount, 0) <= 0 or (
            currency.compare_amounts(amount, invoice.amount_total) > 0
        ):
            return None, self._paycrm_unmatched(
                _(
                    "Amount %(amount)s does not fit invoice %(name)s "
                    "(total %(total)s).",
                    amount=amount,
                    name=invoice.name,
                    total=invoice.amount_total,
                )
            )
        return amount, None

    # ------------------------------------------------------------- entries

    def _paycrm_claim(self, event, key):
        """Serialise bookings of one gateway object; return the earlier event
        that booked it, if any (another event type may carry the same money)."""
        digest = hashlib.sha1(f"{event.gateway_id.id}:{key}".encode()).digest()
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s)",
                int.from_bytes(digest[:8], "big", signed=True),
            )
        )
        return self.env["paycrm.event"].search(
            [("gateway_id", "=", event.gateway_id.id), ("booking_key", "=", key)],
            limit=1,
        )

    def _paycrm_post(self, event, ref, lines, currency, partner=None):
        """Post one entry in the gateway's clearing journal.

        ``lines``: ``(account, amount in currency, partner?)``, debit positive.
        """
        batch = self.env["paycrm.booking.batch"]
        return batch._paycrm_create_moves(
            [batch._paycrm_move_vals(event, ref, lines, currency, partner)]
        )

    def _paycrm_clearing(self, event):
        journal = event.gateway_id.journal_id
        if not journal.default_account_id:
            raise PaycrmRetry(_("The gateway has no clearing journal account."))
        return journal.default_account_id

    def _paycrm_receivable(self, move):
        return move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _paycrm_activity(self, record, summary, note):
        record.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=record.invoice_user_id.id or self.env.user.id,
        )

    # ------------------------------------------------------------- payments

    def _paycrm_book_payment(self, event, norm, adapter):
        invoice, answer = self._paycrm_check_invoice(event, norm, adapter)
        if answer:
            return answer
        amount, answer = self._paycrm_check_amount(invoice, norm, adapter)
        if answer:
            return answer
        return self._paycrm_book_payment_on(event, norm, adapter, invoice, amount)

    def _paycrm_book_payment_on(self, event, norm, adapter, invoice, amount):
        key = f"pay:{norm.payment_ref or norm.object_ref}"
        earlier = self._paycrm_claim(event, key)
        vals = {"invoice_id": invoice.id, "currency_id": invoice.currency_id.id}
        if earlier:
            return "done", vals | {
                "last_error": _(
                    "Already booked by event %(ref)s.", ref=earlier.external_id
                )
            }
        currency = invoice.currency_id
        settle, gross, fee, fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount
        )
        clearing = self._paycrm_clearing(event)
        receivable = self._paycrm_receivable(invoice)[:1].account_id
        lines = [(clearing, gross, None, settle), (receivable, -amount, None)]
        if settle.compare_amounts(fee, 0) > 0:
            lines += [
                (event.gateway_id.fee_account_id, fee, None, settle),
                (clearing, -fee, None, settle),
            ]
        plan = {
            "event": event,
            "invoice": invoice,
            "amount": amount,
            "fee": fee_here,
            "key": key,
            "ref": norm.payment_ref or norm.object_ref,
            "session_ref": norm.session_ref,
            "residual": invoice.amount_residual,
            "vals": vals | self._paycrm_settle_vals(settle, gross, fee),
            "move_vals": self.env["paycrm.booking.batch"]._paycrm_move_vals(
                event,
                f"{event.gateway_id.name} {norm.payment_ref or norm.object_ref}",
                lines,
                currency,
                invoice.commercial_partner_id,
            ),
        }
        if self.env.context.get("paycrm_plan_payments"):
            # The batch processor books the payments of a batch together.
            return "planned", plan
        batch = self.env["paycrm.booking.batch"]
        move = batch._paycrm_create_moves([plan["move_vals"]])
        batch._paycrm_reconcile_payments([plan], move)
        return batch._paycrm_finish_payment(plan, move)

    def _paycrm_payment_event(self, event, norm):
        """The done event that booked the payment ``norm`` refers to."""
        domain = [
            ("gateway_id", "=", event.gateway_id.id),
            ("booking_key", "=like", "pay:%"),
        ]
        refs = [r for r in (norm.payment_ref, norm.extra.get("charge")) if r]
        if not refs:
            return self.env["paycrm.event"]
        return self.env["paycrm.event"].search(
            domain + ["|", ("payment_ref", "in", refs), ("charge_ref", "in", refs)],
            limit=1,
        )

    def _paycrm_payment_or_retry(self, event, norm):
        payment = self._paycrm_payment_event(event, norm)
        if payment:
            return payment, None
        pending = norm.invoice_id or self.env["paycrm.event"].search_count(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("state", "=", "received"),
                ("payment_ref", "in", [norm.payment_ref]),
                ("id", "!=", event.id),
            ]
        )
        if pending:
            # Out of order: the payment's own event books it first.
            raise PaycrmRetry(
                _(
                    "Payment %(ref)s not booked yet; will retry.",
                    ref=norm.payment_ref or norm.extra.get("charge"),
                )
            )
        return None, self._paycrm_not_ours(norm)

    # -------------------------------------------------------------- refunds

    def _paycrm_book_refund(self, event, norm, adapter):
        payment, answer = self._paycrm_payment_or_retry(event, norm)
        if answer:
            return answer
        invoice = payment.invoice_id
        vals = {
            "invoice_id": invoice.id,
            "currency_id": invoice.currency_id.id,
            "payment_ref": payment.payment_ref,
        }
        if not norm.object_ref:
            return "done", vals | {
                "last_error": _("Booked by the refund's own events.")
            }
        key = f"refund:{norm.object_ref}"
        earlier = self._paycrm_claim(event, key)
        if earlier:
            return "done", vals | {
                "last_error": _(
                    "Already booked by event %(ref)s.", ref=earlier.external_id
                )
            }
        currency = invoice.currency_id
        amount = self._paycrm_amount(norm, currency, adapter)
        if payment._paycrm_settles_apart():
            norm = adapter.settle_event(norm)
        settle, gross, _fee, _fee_here = self._paycrm_settlement(
            norm, currency, adapter, amount, payment
        )
        receivable = self._paycrm_receivable(invoice)[:1].account_id
        partner = invoice.commercial_partner_id
        move = self._paycrm_post(
            event,
            _("Refund %(ref)s", ref=norm.object_ref),
            [
                (receivable, amount, None),
                (self._paycrm_clearing(event), -gross, None, settle),
            ],
            currency,
            partner,
        )
        credit_notes = invoice.reversal_move_ids.filtered(
            lambda m: (
                m.state == "posted" and m.payment_state not in ("paid", "reversed")
            )
        )
        lines = self._paycrm_receivable(credit_notes).filtered(
            lambda line: not line.reconciled
        )
        if lines:
            (self._paycrm_receivable(move) + lines).reconcile()
        else:
            self._paycrm_activity(
                invoice,
                _("Refund without credit note"),
                _(
                    "%(amount)s %(cur)s refunded through the gateway: issue a credit "
                    "note or match the open item.",
                    amount=amount,
                    cur=currency.name,
                ),
            )
        invoice.paycrm_amount_received -= amount
        return "done", vals | {
            "move_id": move.id,
            "booking_key": key,
            "amount": amount,
            **self._paycrm_settle_vals(settle, gross, 0.0),
        }

    def _paycrm_book_refund_failed(self, event, norm, adapter):
        booked = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", event.gateway_id.id),
                ("booking_key", "=", f"refund:{norm.object_ref}"),
            ],
            limit=1,
        )
        if not booked:
            return "done", {"last_error": _("Nothing was booked for this refund.")}
        key = f"refund-back:{norm.object_ref}"
        if self._paycrm_claim(event, key):
            return "done", {"invoice_id": booked.invoice_id.id}
        reversal = booked.move_id._reverse_moves(cancel=False)
        reversal.action_post()
        booked.invoice_id.paycrm_amount_received += booked.amount
        return "done", {
            "invoice_id": booked.invoice_id.id,
            "move_id": reversal.id,
            "booking_key": key,
        }
