"""Payment pending: a bank debit (SEPA, ACH) or another delayed payment the
gateway reports as processing. While it is in flight the invoice is not
reminded, charged again or reported late."""

from datetime import timedelta

from odoo import fields, models

from .. import const

# Business days a delayed method takes to settle, by method type.
PENDING_BUSINESS_DAYS = {"sepa_debit": 5, "us_bank_account": 4}
PENDING_DEFAULT_DAYS = 5


def add_business_days(day, count):
    """``day`` plus ``count`` working days (Monday to Friday)."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    paycrm_payment_pending = fields.Boolean(
        string="Payment Pending",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="paycrm_connector.group_paycrm_user",
        help="A payment (a bank debit) is in progress at the gateway: reminders, "
        "auto-pay and late-payment alerts wait for its outcome.",
    )
    paycrm_pending_amount = fields.Monetary(
        string="Pending Amount",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_pending_method = fields.Char(
        string="Pending Method",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_pending_since = fields.Datetime(
        string="Pending Since",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_pending_expected = fields.Date(
        string="Expected By",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
        help="When the gateway should confirm the payment (5 business days for "
        "SEPA, 4 for ACH).",
    )
    paycrm_pending_ref = fields.Char(
        string="Pending Payment",
        readonly=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
    )

    def _paycrm_is_payment_pending(self):
        """Whether a payment of this invoice is in flight at the gateway."""
        self.ensure_one()
        return bool(self.sudo().paycrm_payment_pending)

    def _paycrm_set_pending(self, amount, method, payment_ref, since):
        """Mark the invoice Payment pending (booking of ``payment_pending``)."""
        self.ensure_one()
        days = PENDING_BUSINESS_DAYS.get(method, PENDING_DEFAULT_DAYS)
        self.sudo().with_context(skip_invoice_sync=True).write(
            {
                "paycrm_payment_pending": True,
                "paycrm_pending_amount": amount,
                "paycrm_pending_method": method or False,
                "paycrm_pending_since": since,
                "paycrm_pending_expected": add_business_days(since.date(), days),
                "paycrm_pending_ref": payment_ref or False,
            }
        )

    def _paycrm_clear_pending(self):
        pending = self.sudo().filtered("paycrm_payment_pending")
        if pending:
            pending.with_context(skip_invoice_sync=True).write(
                {
                    "paycrm_payment_pending": False,
                    "paycrm_pending_amount": 0.0,
                    "paycrm_pending_method": False,
                    "paycrm_pending_since": False,
                    "paycrm_pending_expected": False,
                    "paycrm_pending_ref": False,
                }
            )
        return pending

    def _paycrm_pending_method_label(self):
        self.ensure_one()
        labels = dict(const.METHOD_TYPES)
        method = self.sudo().paycrm_pending_method
        return labels.get(method, method or "")
