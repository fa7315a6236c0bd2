"""The stable pay URL of an invoice, and the signature of a partial amount on it."""

from urllib.parse import urlencode

from odoo import api, models
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

AMOUNT_SCOPE = "paycrm-link-amount"


class PaycrmLinkUrl(models.AbstractModel):
    """Builds ``/paycrm/pay/<invoice id>/<access token>``: the one place that
    does, for emails, SMS, portal pages, gateway return URLs and the routes'
    own redirects."""

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
