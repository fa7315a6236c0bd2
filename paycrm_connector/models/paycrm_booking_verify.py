"""Booking steps every gateway gets for free: re-verification of events stored
unverified, and gateway fees handed back on refunds (PayPal)."""

from odoo import _, api, models


# Its own file, not merged into paycrm_booking*.py: those are being reworked in
# parallel, and these two gateway-neutral steps stay out of their way.
class PaycrmBooking(models.AbstractModel):
    _inherit = "paycrm.booking"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _paycrm_apply(self, event):
        # Never book an event its gateway has not vouched for.
        if not event.verified:
            answer = event._paycrm_reverify()
            if answer:
                return answer
        return super()._paycrm_apply(event)

    def _paycrm_book_refund(self, event, norm, adapter):
        state, vals = super()._paycrm_book_refund(event, norm, adapter)
        fee_minor = norm.extra.get("fee_refunded_minor") or 0
        # move_id: the refund was booked just now (not a duplicate), so its
        # returned fee is booked once, in the same savepoint.
        if not vals.get("move_id") or fee_minor <= 0:
            return state, vals
        invoice = self.env["account.move"].browse(vals["invoice_id"])
        currency = invoice.currency_id
        fee = self._paycrm_amount(norm, currency, adapter, fee_minor)
        clearing = self._paycrm_clearing(event)
        self._paycrm_post(
            event,
            _("Fee returned on refund %(ref)s", ref=norm.object_ref),
            [(clearing, fee, None), (event.gateway_id.fee_account_id, -fee, None)],
            currency,
            invoice.commercial_partner_id,
        )
        invoice.paycrm_fee_amount -= fee
        return state, vals | {"fee_amount": -fee, "settle_fee": -fee}
