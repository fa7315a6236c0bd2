"""Customer-facing payment-link pages: the stable pay URL and the demo hosted page.

Every route is public and answers a page, never a traceback: a wrong token is a
404, a gateway failure a 503 page with a retry button. Every URL handed out
comes from configuration (``paycrm.link.url._paycrm_pay_url``), never from the
request's Host, and a click writes a bounded amount (counters, not chatter).
"""

import logging
import re

from werkzeug.exceptions import BadRequest, Gone, NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import consteq, formatLang

from ..gateways import GatewayError, GatewayUnreachable, providers_with
from ..gateways.demo import DEMO_METHODS
from ..models.paycrm_link import PaycrmSessionQuota
from .pay_choice import PaycrmPayChoiceMixin
from .portal_save import PaycrmSaveOfferMixin

_logger = logging.getLogger(__name__)

PAY_ROUTE = "/paycrm/pay/<int:invoice_id>/<string:access_token>"
# A signed partial amount, in minor units.
AMOUNT_RE = re.compile(r"[0-9]{1,15}")


class PaycrmLinkController(PaycrmPayChoiceMixin, PaycrmSaveOfferMixin, http.Controller):
    # ----------------------------------------------------------------- helpers

    def _paycrm_invoice(self, invoice_id, access_token):
        """The invoice (sudo) behind a stable URL, or 404.

        sudo: the customer is anonymous; the portal access token in the URL is the
        credential, compared in constant time so it cannot be guessed bytewise.
        """
        move = request.env["account.move"].sudo().browse(invoice_id).exists()
        # Bytes: consteq refuses str with non-ASCII characters (a junk token).
        if (
            not move
            or move.move_type != "out_invoice"
            or (move.state == "draft" and not move.posted_before)
            or not move.access_token
            or not consteq(move.access_token.encode(), (access_token or "").encode())
        ):
            raise self._paycrm_not_found()
        if move.state == "draft":
            # The right token of an invoice reset to draft: this link was
            # handed out and withdrawn (410), until the invoice is posted again.
            raise self._paycrm_not_found(gone=True)
        return move

    @staticmethod
    def _paycrm_url(move, **kwargs):
        """``move``'s stable pay URL: ``paycrm.link.url._paycrm_pay_url``."""
        return request.env["paycrm.link.url"]._paycrm_pay_url(move, **kwargs)

    def _paycrm_page(self, move, title, message, status=200, retry_url=None, **values):
        company = move.company_id if move else request.env.company
        values = {
            "heading": title,
            # The browser tab: what happened, and for whom.
            "page_title": f"{title} – {company.name}",
            "message": message,
            "move": move,
            "company": company,
            "retry_url": retry_url,
            **values,
        }
        return request.render(
            "paycrm_connector.paycrm_link_page", values, status=status
        )

    def _paycrm_not_found(self, gone=False):
        """A branded 404 (410 when ``gone``) to raise: the same layout as the
        other customer pages, not Odoo's bare "Not Found".

        Rendered now (not lazily): once raised, the request's transaction is
        rolled back and closed, then werkzeug answers with this response.
        """
        env = request.env
        status = 410 if gone else 404
        page = self._paycrm_page(
            env["account.move"],
            env._("Link no longer valid") if gone else env._("Link not found"),
            env._(
                "This payment link has been replaced or withdrawn. Please use "
                "the latest link you received, or contact the company that "
                "sent it."
            )
            if gone
            else env._(
                "This payment link is incomplete or not valid. Please copy the "
                "whole link from your email or message, or contact the company "
                "that sent it."
            ),
            status=status,
            icon="fa-chain-broken text-muted",
        )
        page.flatten()
        return (Gone if gone else NotFound)(response=page)

    def _paycrm_thanks_page(self, move, sentence, **values):
        """Thank you for a payment, with the receipt promised when it can be."""
        return self._paycrm_page(
            move,
            request.env._("Thank you"),
            self._paycrm_receipt_sentence(move, sentence),
            **values,
        )

    def _paycrm_confirming_page(self, move):
        return self._paycrm_thanks_page(
            move,
            request.env._(
                "Your payment for invoice %(invoice)s is being confirmed.",
                invoice=move.name,
            ),
            refresh=True,
            icon="fa-hourglass-half text-info",
        )

    def _paycrm_received_page(self, move, link):
        due = formatLang(
            request.env, move.amount_residual, currency_obj=move.currency_id
        )
        return self._paycrm_thanks_page(
            move,
            request.env._(
                "Your payment of %(amount)s for invoice %(invoice)s was "
                "received; %(due)s is still due.",
                amount=link._paycrm_amount_label(),
                invoice=move.name,
                due=due,
            ),
            icon="fa-check-circle text-success",
        )

    def _paycrm_receipt_sentence(self, move, sentence):
        # The receipt goes to the invoice's customer (mail template
        # "Invoice: Payment Receipt"): promise it only when it can be sent.
        email = move.partner_id.email
        if not email:
            return sentence
        return request.env._(
            "%(sentence)s A receipt will be emailed to %(email)s.",
            sentence=sentence,
            email=email,
        )

    def _paycrm_paid_page(self, move):
        return self._paycrm_page(
            move,
            request.env._("Thank you"),
            request.env._("Invoice %(invoice)s is paid. Thank you!", invoice=move.name),
            icon="fa-check-circle text-success",
        )

    # ------------------------------------------------------------- stable URL

    @http.route(PAY_ROUTE, type="http", auth="public", methods=["GET"], sitemap=False)
    def paycrm_pay(
        self, invoice_id, access_token, amount=None, sig=None, gateway=None, **kwargs
    ):
        return self._paycrm_pay(invoice_id, access_token, amount, sig, gateway)

    @http.route(
        f"{PAY_ROUTE}/checkout",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def paycrm_pay_checkout(
        self,
        invoice_id,
        access_token,
        amount=None,
        sig=None,
        gateway=None,
        save_method=None,
        **kwargs,
    ):
        """The customer's answer to the offer to save their method (CSRF
        protected): on to the gateway, saving the method when ticked."""
        return self._paycrm_pay(
            invoice_id,
            access_token,
            amount,
            sig,
            gateway,
            save_method=save_method == "1",
        )

    def _paycrm_pay(
        self, invoice_id, access_token, amount, sig, gateway, save_method=None
    ):
        """The stable link's answer; ``save_method`` None: not asked yet (the
        offer to save the method is shown first where the gateway can)."""
        move = self._paycrm_invoice(invoice_id, access_token)
        state = move.paycrm_link_state
        if state == "paid":
            return self._paycrm_paid_page(move)
        if state == "cancelled":
            return self._paycrm_page(
                move,
                request.env._("Invoice cancelled"),
                request.env._(
                    "Invoice %(invoice)s was cancelled: there is nothing to pay. "
                    "Contact %(company)s if this looks wrong.",
                    invoice=move.name,
                    company=move.company_id.name,
                ),
            )
        partial = None
        query = {}
        if amount:
            # ASCII digits only: str.isdigit() takes "²", which int() refuses.
            if not (
                AMOUNT_RE.fullmatch(amount)
                and request.env["paycrm.link.url"]._paycrm_check_amount_signature(
                    move, amount, sig
                )
            ):
                raise self._paycrm_not_found()
            partial = float(
                request.env["paycrm.link"]._paycrm_from_minor(
                    move.currency_id, int(amount)
                )
            )
            query = {"amount": amount, "sig": sig}
            if (
                request.env["paycrm.link"]
                .sudo()
                .search_count(
                    [
                        ("move_id", "=", move.id),
                        ("amount_minor", "=", int(amount)),
                        ("state", "in", ("submitted", "paid")),
                    ],
                    limit=1,
                )
            ):
                # This deposit link was paid already: it pays once. The
                # stable link says what is left (or that it is confirming).
                return request.redirect(self._paycrm_url(move), code=303, local=False)
        in_flight = request.env["paycrm.link"].sudo()._paycrm_in_flight(move)
        if (
            in_flight
            and move.currency_id.compare_amounts(move.amount_residual, in_flight) <= 0
        ):
            # Paid a moment ago (any gateway); its confirmation is on its way:
            # no choice and no second checkout for the same money.
            return self._paycrm_confirming_page(move)
        choice = self._paycrm_chosen_gateway(move, gateway)
        if choice is None:
            request.env["paycrm.link.sender"]._paycrm_note_link_opened(move)
            return self._paycrm_choice_page(move, query)
        if choice:
            query["gateway"] = choice.id
        if save_method is None and self._paycrm_offers_save(move, choice):
            return self._paycrm_save_offer_page(move, choice, query)
        try:
            link, _created = (
                request.env["paycrm.link"]
                .sudo()
                ._paycrm_checkout_for(
                    move, amount=partial, gateway=choice, save_method=bool(save_method)
                )
            )
        except GatewayError as exc:
            failed = choice or move._paycrm_gateway()
            _logger.warning(
                "paycrm pay link for invoice %s: gateway %s failed: %s",
                move.id,
                failed.id,
                exc.kind,
            )
            request.env["paycrm.link.sender"]._paycrm_note_link_failure(
                move,
                request.env._(
                    "A customer could not open the payment page: %(gateway)s said "
                    "“%(reason)s”.",
                    gateway=failed.name,
                    reason=str(exc),
                ),
            )
            transient = isinstance(exc, GatewayUnreachable)
            return self._paycrm_page(
                move,
                request.env._("Payment page unavailable"),
                request.env._(
                    "The payment service is not answering right now. Please try "
                    "again in a moment; nothing was charged."
                )
                if transient
                else request.env._(
                    "Online payment is not available for this invoice. %(company)s "
                    "has been notified; nothing was charged.",
                    company=move.company_id.name,
                ),
                status=503,
                retry_url=self._paycrm_url(move, query=query) if transient else None,
            )
        except PaycrmSessionQuota:
            _logger.warning(
                "paycrm pay link for invoice %s: new session quota reached", move.id
            )
            return self._paycrm_page(
                move,
                request.env._("Too many attempts"),
                request.env._(
                    "This payment link was opened with too many different choices "
                    "in the last hour. Please try again later; nothing was charged."
                ),
                status=429,
            )
        except UserError:
            # Nothing to pay online (no gateway, zero residual): say so plainly.
            if move.currency_id.compare_amounts(move.amount_residual, 0) <= 0:
                return self._paycrm_paid_page(move)
            return self._paycrm_page(
                move,
                request.env._("Online payment unavailable"),
                request.env._(
                    "Invoice %(invoice)s cannot be paid online. Please contact "
                    "%(company)s.",
                    invoice=move.name,
                    company=move.company_id.name,
                ),
                status=404,
            )
        return request.redirect(link.url, code=303, local=False)

    @http.route(
        f"{PAY_ROUTE}/done", type="http", auth="public", methods=["GET"], sitemap=False
    )
    def paycrm_pay_done(
        self, invoice_id, access_token, token=None, session_id=None, **kwargs
    ):
        move = self._paycrm_invoice(invoice_id, access_token)
        ref = token or session_id
        if isinstance(ref, str) and move.paycrm_link_state != "paid":
            # PayPal sends the payer back with ?token=<order id>&PayerID=...:
            # the money is taken now (capture), on an order of this invoice
            # only. Stripe with ?session_id=<checkout session>: its money is
            # taken, and now known to be in flight.
            return self._paycrm_finish_return(move, ref)
        if move.paycrm_link_state == "paid":
            return self._paycrm_paid_page(move)
        link = request.env["paycrm.link"].sudo()._paycrm_recent_payment(move)
        if not link:
            # Nobody paid through this invoice's link lately: no "thank you"
            # for a payment that never was; the link asks for what is due.
            return request.redirect(self._paycrm_url(move), code=303, local=False)
        if link.state == "paid":
            # A part payment (a deposit) is booked: say so, and what is left.
            return self._paycrm_received_page(move, link)
        return self._paycrm_confirming_page(move)

    @http.route(
        f"{PAY_ROUTE}/cancel",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def paycrm_pay_cancel(self, invoice_id, access_token, **kwargs):
        move = self._paycrm_invoice(invoice_id, access_token)
        return self._paycrm_page(
            move,
            request.env._("Payment not completed"),
            request.env._(
                "The payment for invoice %(invoice)s was not completed.",
                invoice=move.name,
            ),
            retry_url=self._paycrm_url(move),
        )

    # --------------------------------------------------------- demo hosted page

    def _paycrm_demo_link(self, session_ref):
        # sudo: the demo page is the "gateway" and is public; the unguessable
        # session id is its credential, as on a real hosted checkout.
        if len(session_ref) > 255 or "\x00" in session_ref:
            raise self._paycrm_not_found()
        link = (
            request.env["paycrm.link"]
            .sudo()
            .search(
                [
                    ("session_ref", "=", session_ref),
                    ("gateway_id.provider", "in", providers_with("hosted_here")),
                ],
                limit=1,
            )
        )
        if not link:
            raise self._paycrm_not_found()
        return link

    def _paycrm_demo_refused(self, link, reason):
        """The page for a session that takes no payment (``_paycrm_refusal``)."""
        move = link.move_id
        if reason == "paid":
            return self._paycrm_page(
                move,
                request.env._("Already paid"),
                request.env._(
                    "This checkout session has already been paid; nothing more "
                    "was charged."
                ),
                status=409,
            )
        if reason == "disabled":
            return self._paycrm_page(
                move,
                request.env._("Payment unavailable"),
                request.env._(
                    "This checkout no longer takes payments; nothing was charged. "
                    "Please contact %(company)s to pay invoice %(invoice)s.",
                    company=move.company_id.name,
                    invoice=move.name,
                ),
                status=409,
            )
        return self._paycrm_page(
            move,
            request.env._("Checkout expired"),
            request.env._(
                "This checkout session has expired; nothing was charged. Open the "
                "invoice's payment link again to pay."
            ),
            status=410,
            retry_url=self._paycrm_url(move),
        )

    @http.route(
        "/paycrm/demo/checkout/<string:session_ref>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def paycrm_demo_checkout(self, session_ref, **kwargs):
        link = self._paycrm_demo_link(session_ref)
        refusal = link._paycrm_refusal()
        if refusal:
            return self._paycrm_demo_refused(link, refusal)
        return request.render(
            "paycrm_connector.paycrm_demo_checkout_page", {"link": link}
        )

    @http.route(
        "/paycrm/demo/checkout/<string:session_ref>/submit",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def paycrm_demo_submit(
        self,
        session_ref,
        outcome="pay",
        method="card",
        card_country="",
        save_method=None,
        **kwargs,
    ):
        link = self._paycrm_demo_link(session_ref)
        move = link.move_id
        card_country = (card_country or "").strip().upper()
        if (
            outcome not in ("pay", "decline")
            or method not in DEMO_METHODS
            or not (
                card_country == ""
                or (
                    len(card_country) == 2
                    and card_country.isascii()
                    and card_country.isalpha()
                )
            )
        ):
            raise BadRequest(
                request.env._(
                    "Choose a payment method among %(methods)s and a two-letter "
                    "card country (or none), then Pay or Card declined.",
                    methods=", ".join(DEMO_METHODS),
                )
            )
        paid = outcome == "pay"
        refusal = link._paycrm_demo_submit(
            paid,
            (
                method,
                "visa" if method == "card" else "",
                card_country if method == "card" else "",
            ),
        )
        if refusal:
            return self._paycrm_demo_refused(link, refusal)
        if paid and save_method == "1" and method in ("card", "sepa_debit"):
            # The payer ticked "save for future invoices" on the demo page.
            request.env["paycrm.method.setup"].sudo()._paycrm_demo_save(
                link.gateway_id, move.commercial_partner_id, method
            )
        if paid:
            return request.redirect(
                self._paycrm_url(move, suffix="/done"), code=303, local=False
            )
        return self._paycrm_page(
            move,
            request.env._("Payment declined"),
            request.env._(
                "The card was declined and nothing was charged. You can try again."
            ),
            retry_url=link.url,
        )
