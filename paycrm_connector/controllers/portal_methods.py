"""The customer's saved payment methods on their portal: listed, removable
(detached at the gateway, archived here). Only their own."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class PaycrmPortalMethods(CustomerPortal):
    def _paycrm_my_methods(self):
        # sudo: portal users have no access to the model; the domain limits
        # it to their own commercial partner's active methods.
        partner = request.env.user.partner_id.commercial_partner_id
        return (
            request.env["paycrm.payment.method"]
            .sudo()
            .search([("partner_id", "=", partner.id)])
        )

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "paycrm_method_count" in counters:
            values["paycrm_method_count"] = len(self._paycrm_my_methods())
        return values

    @http.route(
        "/my/payment_methods",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def paycrm_my_payment_methods(self, removed=None, **kwargs):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "paycrm_payment_methods",
                "methods": self._paycrm_my_methods(),
                "removed": removed == "1",
                "error": kwargs.get("error")
                and request.env._(
                    "The payment method could not be removed; please try again later."
                ),
            }
        )
        return request.render("paycrm_connector.portal_my_payment_methods", values)

    @http.route(
        "/my/payment_methods/<int:method_id>/remove",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def paycrm_remove_payment_method(self, method_id, **kwargs):
        method = self._paycrm_my_methods().filtered(lambda m: m.id == method_id)
        if not method:
            # Another customer's method, an archived one or none: not found.
            raise NotFound()
        try:
            method._paycrm_detach()
        except UserError:
            return request.redirect("/my/payment_methods?error=1", code=303)
        return request.redirect("/my/payment_methods?removed=1", code=303)
