"""Gateway choice on the stable URL, and checkouts finished on the payer's return."""

from odoo import _, api, models

from .. import const


class PaycrmLink(models.Model):
    _inherit = "paycrm.link"

    @api.model
    def _paycrm_gateway_choices(self, move):
        """Gateways a customer may pay ``move`` with, its own first.

        The invoice's gateway, plus the company's first enabled gateway of the
        other family (a wallet such as PayPal vs a card form), so a customer
        without the one can use the other.
        """
        default = move.paycrm_gateway_id
        if not default or default.state == "disabled":
            return default.browse()
        wallets = list(const.WALLET_PROVIDERS)
        other = self.env["paycrm.gateway"].search(
            [
                ("company_id", "=", move.company_id.id),
                ("state", "!=", "disabled"),
                (
                    "provider",
                    "not in" if default.provider in wallets else "in",
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
            self.move_id._message_log(
                body=_(
                    "Checkout session %(session)s captured %(got)s %(got_cur)s "
                    "(minor units) instead of %(want)s %(want_cur)s: check payment "
                    "%(ref)s before it is booked.",
                    session=self.session_ref,
                    got=result.amount_minor,
                    got_cur=result.currency,
                    want=self.amount_minor,
                    want_cur=self.currency_id.name,
                    ref=result.payment_ref,
                )
            )
            return "mismatch"
        self.move_id._message_log(
            body=_(
                "Payment %(ref)s taken through checkout session %(session)s "
                "(%(status)s); it is booked when the gateway confirms it.",
                ref=result.payment_ref,
                session=self.session_ref,
                status=status,
            )
        )
        return status
