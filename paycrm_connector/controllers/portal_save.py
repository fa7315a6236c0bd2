"""Saving a payment method from the customer pages: the offer before checkout
("save this card / account for future invoices"), and the demo gateway's own
pages that save a demo card. A mixin of the pay-link controller (``portal.py``).
"""

import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request
from odoo.tools import format_amount

from ..gateways import providers_with

_logger = logging.getLogger(__name__)

# What the demo setup page can save.
DEMO_SAVE_METHODS = ("card", "sepa_debit")


class PaycrmSaveOfferMixin:
    # ---------------------------------------------------- offer on the link

    def _paycrm_offers_save(self, move, choice):
        """Whether the customer is asked before checkout to save the method:
        the gateway saves methods, knows the customer (it syncs customers),
        and offers it on links (its *Offer to Save Methods* setting)."""
        gateway = choice or move._paycrm_gateway()
        return bool(
            gateway
            and gateway.state != "disabled"
            and gateway.offer_save_method
            and gateway._paycrm_can("saves_methods")
            and gateway._paycrm_can("syncs_customers")
        )

    def _paycrm_save_offer_page(self, move, choice, query):
        env = request.env
        gateway = choice or move._paycrm_gateway()
        types = gateway._paycrm_can("method_types") or ("card",)
        # sudo: the anonymous customer reads the consent wording only.
        consent = (
            env["paycrm.payment.method"]
            .sudo()
            ._paycrm_consent_text(move.company_id, "card")
        )
        debit = [t for t in types if t in ("sepa_debit", "us_bank_account")]
        mandate = (
            env["paycrm.payment.method"]
            .sudo()
            ._paycrm_consent_text(move.company_id, debit[0])
            if debit
            else ""
        )
        return self._paycrm_page(
            move,
            env._("Pay invoice %(invoice)s", invoice=move.name),
            env._(
                "%(amount)s to pay.",
                amount=format_amount(env, move.amount_residual, move.currency_id),
            ),
            save_offer={
                "action": self._paycrm_url(move, suffix="/checkout"),
                "fields": {
                    key: value
                    for key, value in query.items()
                    if key in ("amount", "sig", "gateway")
                },
                "consent": consent,
                "mandate": mandate,
            },
        )

    # ------------------------------------------------ demo gateway's pages

    def _paycrm_demo_setup(self, session_ref):
        # sudo: the demo setup page is the "gateway" and public; the
        # unguessable session id is its credential.
        if len(session_ref) > 255 or "\x00" in session_ref:
            raise self._paycrm_not_found()
        setup = (
            request.env["paycrm.method.setup"]
            .sudo()
            .search(
                [
                    ("session_ref", "=", session_ref),
                    ("gateway_id.provider", "in", providers_with("hosted_here")),
                ],
                limit=1,
            )
        )
        if not setup:
            raise self._paycrm_not_found()
        return setup

    def _paycrm_setup_page(self, setup, title, message, status=200, icon=None):
        env = request.env
        return request.render(
            "paycrm_connector.paycrm_link_page",
            {
                "heading": title,
                "page_title": f"{title} – {setup.company_id.name}",
                "message": message,
                "move": env["account.move"],
                "company": setup.company_id,
                "icon": icon,
            },
            status=status,
        )

    @http.route(
        "/paycrm/demo/setup/<string:session_ref>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def paycrm_demo_setup(self, session_ref, **kwargs):
        setup = self._paycrm_demo_setup(session_ref)
        refusal = setup._paycrm_refusal()
        if refusal:
            return self._paycrm_setup_refused(setup, refusal)
        model = request.env["paycrm.payment.method"].sudo()
        return request.render(
            "paycrm_connector.paycrm_demo_setup_page",
            {
                "setup": setup,
                "company": setup.company_id,
                "consent": model._paycrm_consent_text(setup.company_id, "card"),
                "mandate": model._paycrm_consent_text(setup.company_id, "sepa_debit"),
            },
        )

    @http.route(
        "/paycrm/demo/setup/<string:session_ref>/submit",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def paycrm_demo_setup_submit(self, session_ref, method="card", **kwargs):
        setup = self._paycrm_demo_setup(session_ref)
        if method not in DEMO_SAVE_METHODS:
            raise BadRequest(request.env._("Choose a card or a SEPA account."))
        refusal = setup._paycrm_refusal()
        if refusal:
            return self._paycrm_setup_refused(setup, refusal)
        request.env["paycrm.method.setup"].sudo()._paycrm_demo_save(
            setup.gateway_id, setup.partner_id, method, setup
        )
        _logger.info("paycrm demo setup %s: method saved", setup.id)
        return request.redirect("/paycrm/method/saved", code=303)

    def _paycrm_setup_refused(self, setup, reason):
        env = request.env
        if reason == "done":
            return self._paycrm_setup_page(
                setup,
                env._("Already saved"),
                env._("A payment method was already saved with this page."),
                status=409,
            )
        return self._paycrm_setup_page(
            setup,
            env._("Page expired"),
            env._(
                "This page no longer saves payment methods. Please ask %(company)s "
                "for a new link.",
                company=setup.company_id.name,
            ),
            status=410,
        )

    @http.route(
        ["/paycrm/method/saved", "/paycrm/method/cancel"],
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def paycrm_method_return(self, **kwargs):
        env = request.env
        saved = request.httprequest.path.endswith("/saved")
        title = env._("Payment method saved") if saved else env._("Nothing saved")
        return request.render(
            "paycrm_connector.paycrm_link_page",
            {
                "heading": title,
                "page_title": title,
                "message": env._(
                    "Thank you: your payment method is saved for future invoices. "
                    "You can remove it at any time from your customer portal."
                )
                if saved
                else env._("No payment method was saved."),
                "move": env["account.move"],
                "company": env.company,
                "icon": "fa-check-circle text-success" if saved else None,
            },
        )
