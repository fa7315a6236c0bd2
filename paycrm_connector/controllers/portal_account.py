"""Odoo's customer portal for invoices, where one of our gateways serves them.

The portal invoice page and ``/my/invoices`` offer one pay entry point per
invoice (templates in ``views/paycrm_link_templates.xml``); here the values
those templates need, and the invoice the customer sees through *View invoice*.
"""

from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount


class PaycrmPortalAccount(PortalAccount):
    def _prepare_my_invoices_values(self, *args, **kwargs):
        values = super()._prepare_my_invoices_values(*args, **kwargs)
        # "Pay overdue" pays with Odoo's providers: worth offering only for
        # overdue invoices none of our gateways serves.
        overdue = request.env["account.move"].search(
            self._get_overdue_invoices_domain()
        )
        values["paycrm_odoo_overdue_count"] = len(
            overdue.filtered(lambda m: not m.sudo()._paycrm_is_payable())
        )
        return values

    def _show_report(self, model, report_type, report_ref, download=False):
        # Odoo stamps "PROFORMA" on the web view of a posted invoice whose
        # legal PDF was not generated yet (never sent with Send & Print). An
        # invoice our link is sent for is the posted invoice itself, the one
        # the customer is asked to pay: show it as such.
        if (
            report_type == "html"
            and model._name == "account.move"
            and len(model) == 1
            and model.move_type == "out_invoice"
            and model.state == "posted"
            and model.sudo()._paycrm_gateway()
        ):
            request.update_context(proforma_invoice=False)
        return super()._show_report(model, report_type, report_ref, download=download)
