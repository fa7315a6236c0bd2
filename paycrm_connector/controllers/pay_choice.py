"""Stable-URL steps for gateways with more to do than one redirect: the
customer's choice of gateway, and PayPal's return, where the money is taken.

A mixin of the pay-link controller (``portal.py``), which owns the routes.
"""

import logging

from odoo.http import request
from odoo.tools import format_amount

from ..gateways import GatewayError, GatewayUnreachable

_logger = logging.getLogger(__name__)


class PaycrmPayChoiceMixin:
    def _paycrm_chosen_gateway(self, move, gateway_param):
        """The gateway to pay with: ``None`` when the customer must choose first.

        An empty recordset keeps the invoice's own gateway (single gateway).
        """
        # sudo: the anonymous customer only sees gateway names, never settings.
        choices = request.env["paycrm.link"].sudo()._paycrm_gateway_choices(move)
        if gateway_param:
            chosen = choices.filtered(lambda g: str(g.id) == gateway_param)
            if not chosen:
                raise self._paycrm_not_found()
            return chosen
        return None if len(choices) > 1 else choices.browse()

    def _paycrm_choice_page(self, move, query):
        """``query``: the checked parameters to keep (a signed partial amount);
        nothing else of the request is echoed into the page."""
        choices = request.env["paycrm.link"].sudo()._paycrm_gateway_choices(move)
        buttons = []
        for gateway in choices:
            label = (
                request.env._("Pay with PayPal")
                if gateway.provider == "paypal"
                else request.env._("Pay by card")
            )
            url = self._paycrm_url(move, query={**query, "gateway": gateway.id})
            buttons.append({"label": label, "url": url, "provider": gateway.provider})
        return self._paycrm_page(
            move,
            request.env._("How would you like to pay?"),
            request.env._(
                "Invoice %(invoice)s: %(amount)s to pay, by card or with PayPal.",
                invoice=move.name,
                amount=format_amount(
                    request.env, move.amount_residual, move.currency_id
                ),
            ),
            choices=buttons,
        )

    def _paycrm_finish_return(self, move, token):
        env = request.env
        # sudo: the payer is anonymous; the order is looked up among this
        # invoice's own sessions (its access token matched), never alone.
        # No stored text holds a NUL, and PostgreSQL refuses to search one.
        link = "\x00" not in token and (
            env["paycrm.link"]
            .sudo()
            .search([("move_id", "=", move.id), ("session_ref", "=", token)], limit=1)
            # A NUL byte is no order id, and PostgreSQL refuses it in a query.
            if "\x00" not in token
            else env["paycrm.link"]
        )
        retry_url = self._paycrm_url(move)
        if link and link.gateway_id.state != "disabled":
            retry_url = self._paycrm_url(move, query={"gateway": link.gateway_id.id})
        elif not link:
            return self._paycrm_page(
                move,
                env._("Payment not found"),
                env._(
                    "This payment does not belong to invoice %(invoice)s, so it was "
                    "not taken. Please pay from the invoice's link.",
                    invoice=move.name,
                ),
                status=404,
                retry_url=retry_url,
            )
        try:
            status = link._paycrm_complete_return()
        except GatewayError as exc:
            _logger.warning(
                "paycrm return for invoice %s link %s: gateway failed: %s",
                move.id,
                link.id,
                exc.kind,
            )
            transient = isinstance(exc, GatewayUnreachable)
            if not transient:
                env["paycrm.link.sender"]._paycrm_note_link_failure(
                    move,
                    env._(
                        "A customer's payment could not be completed: %(gateway)s "
                        "said “%(reason)s”.",
                        gateway=link.gateway_id.name,
                        reason=str(exc),
                    ),
                )
            return self._paycrm_page(
                move,
                env._("Payment not confirmed yet"),
                env._(
                    "We could not reach the payment service to complete your "
                    "payment. Please try again in a moment; you will not be "
                    "charged twice."
                ),
                status=503,
                retry_url=self._paycrm_url(move, suffix="/done", query={"token": token})
                if transient
                else None,
            )
        if status == "complete":
            # Redirect, so a reload of the thank-you page captures nothing.
            return request.redirect(
                self._paycrm_url(move, suffix="/done"), code=303, local=False
            )
        if status == "open":
            return request.redirect(retry_url, code=303, local=False)
        if status == "declined":
            return request.redirect(link.url, code=303, local=False)
        if status in ("pending", "mismatch"):
            return self._paycrm_page(
                move,
                env._("Payment under review"),
                env._(
                    "Your payment for invoice %(invoice)s was received and is being "
                    "reviewed. You will receive a receipt once it is confirmed.",
                    invoice=move.name,
                ),
            )
        return self._paycrm_page(
            move,
            env._("Payment not completed"),
            env._(
                "The payment for invoice %(invoice)s was not completed and nothing "
                "was charged. You can try again.",
                invoice=move.name,
            ),
            retry_url=retry_url,
        )
