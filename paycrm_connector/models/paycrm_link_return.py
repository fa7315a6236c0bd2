"""Gateway choice on the stable URL, and checkouts finished by the payer: on
their return (PayPal), or on the demo gateway's own hosted page."""

from odoo import _, api, fields, models
from odoo.tools import SQL, formatLang

from ..gateways import money, providers_with


class PaycrmLink(models.Model):
    _inherit = "paycrm.link"

    @api.model
    def _paycrm_gateway_choices(self, move):
        """Gateways a customer may pay ``move`` with, its own first.

        The invoice's gateway, plus the company's first enabled gateway of the
        other family (a wallet such as PayPal vs a card form), so a customer
        without the one can use the other.
        """
        default = move._paycrm_gateway()
        if not default or default.state == "disabled":
            return default.browse()
        wallets = providers_with("wallet")
        other = self.env["paycrm.gateway"].search(
            [
                ("company_id", "=", move.company_id.id),
                ("state", "!=", "disabled"),
                (
                    "provider",
                    "not in" if default._paycrm_can("wallet") else "in",
                    wallets,
                ),
            ],
            limit=1,
        )
        return default | other

    def _paycrm_complete_return(self):
        """Finish this checkout when the payer comes back; return its status.

        ``complete``/``pending``: the money is taken (PayPal captured it);
        ``open``: not approved yet; ``declined``: the payer must pick another
        funding source on the gateway's page; ``expired``/``failed``: a new
        checkout is needed; ``mismatch``: taken, but not what the link asked.
        Nothing is booked here: the gateway's webhook books the payment, once.
        Gateway errors (unreachable, credentials) propagate as ``GatewayError``.
        A taken payment moves the session to ``submitted``: a reload of the
        return URL (a public GET) asks the gateway nothing and writes nothing.
        """
        self.ensure_one()
        if self.state in ("submitted", "paid"):
            return "complete"
        if self.gateway_id.state == "disabled" or self.state != "open":
            # A disabled gateway takes no payment, and a superseded or closed
            # session asks for a stale amount: capture nothing. (No clock
            # check: the payer may come back just after approving in time.)
            return "expired"
        # One key per capture attempt: a reload replays the same capture, and
        # a refused one (its refusal replayed for its key too) gets a fresh key.
        key = f"paycrm-capture-{self.env.cr.dbname}-{self.id}-{self.capture_tries}"
        result = self.gateway_id._paycrm_adapter().complete_checkout(
            self.session_ref, key
        )
        if result is None:
            return "complete"
        status = result.status
        if status in ("open", "declined", "failed"):
            self.capture_tries += 1
        if status in ("expired", "failed"):
            self.state = "expired"
        if status not in ("complete", "pending"):
            return status
        self.state = "submitted"
        if result.currency != self.currency_id.name or (
            result.amount_minor != self.amount_minor
        ):
            self._paycrm_log(
                _(
                    "The gateway took %(got)s where the checkout asked for "
                    "%(amount)s: check payment %(ref)s in the gateway before it is "
                    "booked.",
                    got=self._paycrm_minor_label(result.amount_minor, result.currency),
                    amount=self._paycrm_amount_label(),
                    ref=result.payment_ref,
                )
            )
            return "mismatch"
        if status == "pending":
            body = _(
                "Payment of %(amount)s submitted at checkout, under review by the "
                "gateway; it is booked when the gateway confirms it.",
                amount=self._paycrm_amount_label(),
            )
        else:
            body = _(
                "Payment of %(amount)s taken at checkout; it is booked when the "
                "gateway confirms it.",
                amount=self._paycrm_amount_label(),
            )
        self._paycrm_log(body)
        return status

    def _paycrm_refusal(self):
        """Why this session takes no payment now, or ``""`` when it does.

        ``paid``: paid or submitted already (single use), or the invoice has
        nothing left to pay; ``disabled``: its gateway is disabled;
        ``expired``: lapsed, superseded, closed, or its invoice now owes less
        than the session asks (or is no longer a posted invoice).
        """
        self.ensure_one()
        if self.state in ("submitted", "paid"):
            return "paid"
        if self.gateway_id.state == "disabled":
            return "disabled"
        if self.state != "open" or self.expires_at <= fields.Datetime.now():
            return "expired"
        # The invoice may have changed since the session was opened: paid by
        # other means, credited, reset to draft or cancelled. The session then
        # asks for money that is no longer due: it takes none (the stable link
        # asks for today's amount, or says there is nothing to pay).
        move = self.move_id
        if move.state != "posted" or move.move_type != "out_invoice":
            return "expired"
        residual = move.amount_residual
        if move.currency_id.compare_amounts(residual, 0) <= 0:
            return "paid"
        if move.currency_id.compare_amounts(residual, self.amount) < 0:
            return "expired"
        return ""

    def _paycrm_demo_submit(self, paid, method):
        """Pay (or decline) this demo session; return ``""`` or why not.

        A payment claims the session first, in this transaction: one
        conditional UPDATE moves it from ``open`` to ``submitted``, so of
        several submits exactly one stores a payment (a concurrent one waits
        for the row, then fails to serialize and Odoo replays it, which finds
        the session taken). A declined card leaves the session open and counts
        the try, whose number makes the failed payment's id. The demo
        adapter builds and signs the event; it enters the webhook intake
        (signature check, store, processor trigger) in process, never over
        HTTP: no request-chosen address is ever called.
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
            ),
            # A concurrent submit that loses the race fails to serialize and
            # Odoo replays it (it then finds the session taken): expected,
            # not a "bad query" for the error log.
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(["state", "capture_tries", "write_date"])
        if not row:
            return self._paycrm_refusal() or "expired"
        gateway = self.gateway_id
        payload, headers = gateway._paycrm_adapter().checkout_webhook(
            self.session_ref,
            self.amount_minor,
            self.currency_id.name,
            self._paycrm_metadata(),
            paid=paid,
            method=method,
            attempt=0 if paid else row[0],
        )
        self.env["paycrm.event"]._paycrm_intake(gateway, payload, headers)
        return ""

    def _paycrm_minor_label(self, amount_minor, currency_name):
        """A gateway amount in minor units of ``currency_name``, as staff read
        money (``$ 8.00``)."""
        self.ensure_one()
        name = (currency_name or "").upper()
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", name)], limit=1)
        )
        exponent = self.gateway_id._paycrm_adapter().currency_exponent(
            name, currency.decimal_places if currency else 2
        )
        amount = money.from_minor(amount_minor, exponent)
        if not currency:
            return f"{amount} {name}"
        return formatLang(self.env, float(amount), currency_obj=currency)
