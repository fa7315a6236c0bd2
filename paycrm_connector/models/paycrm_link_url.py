"""The stable pay link of an invoice: given to it (a gateway and a portal token),
its URL built, and a partial amount on it signed."""

from urllib.parse import urlencode

from odoo import _, api, models
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

AMOUNT_SCOPE = "paycrm-link-amount"


class PaycrmLinkUrl(models.AbstractModel):
    """Builds ``/paycrm/pay/<invoice id>/<access token>``: the one place that
    does, for emails, SMS, portal pages, gateway return URLs and the routes'
    own redirects; and gives invoices posted without a link theirs."""

    _name = "paycrm.link.url"
    _description = "Payment Link URL"

    @api.model
    def _paycrm_pay_url(self, move, amount=None, suffix="", query=None):
        """The stable pay URL of ``move``: the one function that builds it.

        From configuration only (``web.base.url`` through ``get_base_url()``),
        never from the request's Host: the URL ends up in emails, SMS, gateway
        return URLs and pages an attacker could otherwise point elsewhere.
        ``suffix``: a sub-page (``/done``, ``/cancel``); a partial ``amount``
        rides along, signed; ``query``: more parameters (gateway choice...).
        """
        move.ensure_one()
        token = move._portal_ensure_token()
        url = f"{move.get_base_url().rstrip('/')}/paycrm/pay/{move.id}/{token}{suffix}"
        params = {}
        if (
            amount is not None
            and move.currency_id.compare_amounts(amount, move.amount_residual) < 0
        ):
            minor = self.env["paycrm.link"]._paycrm_minor(move.currency_id, amount)
            params = {
                "amount": minor,
                "sig": self._paycrm_amount_signature(move, minor),
            }
        params.update(query or {})
        return f"{url}?{urlencode(params)}" if params else url

    @api.model
    def _paycrm_portal_pay_url(self, move):
        """The pay URL the customer portal offers: ours when one of our
        gateways serves the invoice, else False (Odoo's own Pay Now stays)."""
        move.ensure_one()
        return move._paycrm_is_payable() and self._paycrm_pay_url(move)

    @api.model
    def _paycrm_amount_signature(self, move, amount_minor):
        # sudo: the HMAC key is the database secret, readable by superuser only.
        return odoo_hmac(self.env(su=True), AMOUNT_SCOPE, (move.id, int(amount_minor)))

    @api.model
    def _paycrm_check_amount_signature(self, move, amount_minor, signature):
        # Bytes: consteq refuses str with non-ASCII characters (a junk sig).
        return bool(signature) and consteq(
            self._paycrm_amount_signature(move, amount_minor).encode(),
            str(signature).encode(),
        )

    @api.model
    def _paycrm_give_invoices_links(self, moves):
        """Give open posted customer invoices their stable link: a gateway
        (the company's) and a portal access token.

        Invoices posted before the addon was installed, or while no gateway was
        enabled, have neither: their customer could not pay and *Link State*
        said so. Called when a gateway becomes available and on demand.
        Returns the invoices that can be paid online now.
        """
        moves = moves.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.payment_state in ("not_paid", "partial")
            )
        )
        gateway_model = self.env["paycrm.gateway"]
        for company in moves.company_id:
            gateway = gateway_model._paycrm_for_company(company)
            orphans = moves.filtered(
                lambda m, c=company: m.company_id == c and not m.paycrm_gateway_id
            )
            if gateway and orphans:
                orphans.paycrm_gateway_id = gateway
        for move in moves.filtered(lambda m: not m.access_token):
            move._portal_ensure_token()
        return moves.filtered(lambda m: m._paycrm_is_payable())

    @api.model
    def _paycrm_open_invoices_domain(self, companies):
        return [
            ("company_id", "in", companies.ids),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]

    @api.model
    def _paycrm_give_company_links(self, companies):
        """``_paycrm_give_invoices_links`` for every open invoice of ``companies``
        that lacks a gateway or a token."""
        moves = self.env["account.move"].search(
            [
                *self._paycrm_open_invoices_domain(companies),
                "|",
                ("paycrm_gateway_id", "=", False),
                ("access_token", "=", False),
            ]
        )
        return self._paycrm_give_invoices_links(moves)

    @api.model
    def _paycrm_action_give_links(self, moves):
        """Give ``moves`` their payment link, and say how many can be paid
        online now: the notification of both *Give payment links* actions (on
        invoices, and on gateways for their companies' open invoices)."""
        payable = self._paycrm_give_invoices_links(moves)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Payment links"),
                "message": _(
                    "%(count)s of %(total)s invoice(s) can be paid online through "
                    "their payment link.",
                    count=len(payable),
                    total=len(moves),
                ),
                "type": "success" if len(payable) == len(moves) else "warning",
            },
        }
