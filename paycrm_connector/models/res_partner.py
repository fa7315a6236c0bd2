import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..gateways import CustomerData, GatewayError

_logger = logging.getLogger(__name__)

# How the profile's amounts are counted (said in each amount's help).
AMOUNT_RULE = (
    " For the current company only, in its currency: invoices at the rate of "
    "their accounting date (their amounts in company currency), payments at "
    "the rate of their own date (the reconciled amounts in company currency); "
    "amounts in other currencies are never added up raw."
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    paycrm_customer_ref_ids = fields.One2many(
        "paycrm.customer.ref",
        "partner_id",
        string="Gateway Customers",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_mobile_e164 = fields.Char(
        string="Mobile (E.164)",
        compute="_compute_paycrm_mobile_e164",
        store=True,
        help="Mobile (or phone) in international E.164 form, used for SMS.",
    )
    paycrm_mobile_valid = fields.Boolean(
        string="Valid Mobile", compute="_compute_paycrm_mobile_e164", store=True
    )
    paycrm_phone_warning = fields.Char(
        string="Phone Warning", compute="_compute_paycrm_mobile_e164", store=True
    )
    paycrm_reminder_channel = fields.Selection(
        const.REMINDER_CHANNELS,
        string="Reminder Channel",
        default="email",
        help="How payment reminders reach this customer.",
    )
    paycrm_reminder_opt_out = fields.Boolean(
        string="No Payment Reminders",
        help="Never send automatic payment reminders to this customer.",
    )

    paycrm_reminder_policy_id = fields.Many2one(
        "paycrm.reminder.policy",
        string="Reminder Policy",
        company_dependent=True,
        help="Overrides the company's default reminder policy for this customer.",
    )
    paycrm_reminder_hold = fields.Boolean(
        string="Reminders on Hold",
        tracking=True,
        help="No automatic reminders while set (e.g. a stage put the customer on "
        "hold for staff to call).",
    )
    paycrm_cannot_remind_noted = fields.Boolean(
        copy=False,
        help="Staff were already told this customer has neither email nor a valid "
        "mobile; cleared when either is edited.",
    )

    @api.depends("mobile", "phone", "country_id")
    def _compute_paycrm_mobile_e164(self):
        for partner in self:
            number = partner.mobile or partner.phone
            e164, warning = False, False
            if number:
                # phone_validation's own check; its error text quotes the
                # phonenumbers library ("(1) The string supplied did not seem
                # to be a phone number"), which staff should not have to read.
                e164 = partner._phone_format(number=number)
                if not e164:
                    country = partner.country_id or self.env.company.country_id
                    warning = _(
                        "%(number)s is not a valid phone number for %(country)s: "
                        "check the digits, or write it with its country code "
                        "(+%(code)s …).",
                        number=number,
                        country=country.name or _("its country"),
                        code=country.phone_code or "",
                    )
                if e164 and not partner.country_id and not number.startswith("+"):
                    warning = _(
                        "No country on the customer: %(number)s was read with the "
                        "company's country code. Add the country or write the "
                        "number with +<country code>.",
                        number=number,
                    )
            partner.paycrm_mobile_e164 = e164
            partner.paycrm_mobile_valid = bool(e164)
            partner.paycrm_phone_warning = warning

    def _paycrm_sms_skip_reason(self):
        """Why no SMS can reach this customer, in one plain sentence."""
        self.ensure_one()
        if not (self.mobile or self.phone):
            return _(
                "SMS skipped: %(partner)s has no mobile number.",
                partner=self.display_name,
            )
        return _(
            "SMS skipped: %(warning)s",
            warning=self.paycrm_phone_warning
            or _("%(partner)s has no valid mobile number.", partner=self.display_name),
        )

    def write(self, vals):
        contact_changed = {"email", "mobile", "phone"} & vals.keys()
        if contact_changed and "paycrm_cannot_remind_noted" not in vals:
            vals = dict(vals, paycrm_cannot_remind_noted=False)
        return super().write(vals)

    def action_paycrm_promise(self):
        self.ensure_one()
        invoices = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        action = invoices.action_paycrm_promise()
        action["context"]["default_partner_id"] = self.commercial_partner_id.id
        return action

    def _paycrm_customer_data(self):
        self.ensure_one()
        return CustomerData(
            partner_id=self.id,
            name=self.name or "",
            email=self.email or "",
            phone=self.paycrm_mobile_e164 or "",
            street=self.street or "",
            street2=self.street2 or "",
            city=self.city or "",
            zip=self.zip or "",
            state=self.state_id.name or "",
            country_code=self.country_id.code or "",
        )

    def _paycrm_ensure_customer(self, gateway):
        """Create or update this partner on ``gateway``; return the reference."""
        self.ensure_one()
        # sudo: the reference table is technical; users only see it on the form.
        ref_sudo = (
            self.env["paycrm.customer.ref"]
            .sudo()
            .search(
                [("partner_id", "=", self.id), ("gateway_id", "=", gateway.id)],
                limit=1,
            )
        )
        adapter = gateway._paycrm_adapter()
        reference = adapter.upsert_customer(
            self._paycrm_customer_data(),
            reference=ref_sudo.reference,
            idempotency_key=f"paycrm-customer-{self.env.cr.dbname}-{gateway.id}-"
            f"{self.id}",
        )
        values = {"reference": reference, "synced_at": fields.Datetime.now()}
        if ref_sudo:
            ref_sudo.write(values)
        else:
            ref_sudo.create(dict(values, partner_id=self.id, gateway_id=gateway.id))
        return reference

    def action_paycrm_sync_gateway(self):
        gateways = self.env["paycrm.gateway"].search(
            [
                ("company_id", "in", self.env.companies.ids),
                ("state", "!=", "disabled"),
            ]
        )
        if not gateways:
            raise UserError(
                _(
                    "No enabled payment gateway: configure one under Accounting > "
                    "Configuration > Payment Gateways."
                )
            )
        for partner in self:
            for gateway in gateways:
                try:
                    partner._paycrm_ensure_customer(gateway)
                except GatewayError as exc:
                    raise UserError(
                        _(
                            "Could not sync %(partner)s to %(gateway)s: %(reason)s",
                            partner=partner.display_name,
                            gateway=gateway.name,
                            reason=str(exc),
                        )
                    ) from exc
            # sudo: staff allowed to sync may lack write access on contacts, which
            # chatter requires; the note still names them as author.
            partner.sudo().message_post(
                body=_(
                    "Synced to %(gateways)s.",
                    gateways=", ".join(gateways.mapped("name")),
                ),
                author_id=self.env.user.partner_id.id,
            )
        return True

    # Payment profile (figures: paycrm.profile; nothing computed on read) ----
    # Contacts are shared between companies, their payments are not: each
    # figure is company-dependent (one value per company, stored in the
    # partner's row) and reads as the current company's. Amounts are in that
    # company's currency (AMOUNT_RULE).

    paycrm_profile_currency_id = fields.Many2one(
        "res.currency",
        string="Profile Currency",
        compute="_compute_paycrm_profile_currency_id",
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_lifetime_paid = fields.Float(
        string="Lifetime Paid",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Amount received against this customer's invoices, all time "
        "(settlements by credit notes excluded)." + AMOUNT_RULE,
    )
    paycrm_open_amount = fields.Float(
        string="Open Amount",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Amount still due on this customer's posted invoices." + AMOUNT_RULE,
    )
    paycrm_overdue_amount = fields.Float(
        string="Overdue Amount",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Amount still due on invoices past their due date." + AMOUNT_RULE,
    )
    paycrm_oldest_overdue_days = fields.Integer(
        string="Oldest Overdue (days)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_paid_count_12m = fields.Integer(
        string="Invoices Paid (12 months)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_avg_days_to_pay = fields.Float(
        string="Avg Days to Pay",
        digits=(16, 1),
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Mean of (payment date - invoice date) over invoices paid in the "
        "last 12 months. The payment date is the date of the reconciliation "
        "that settled the invoice.",
    )
    paycrm_avg_days_late = fields.Float(
        string="Avg Days Late",
        digits=(16, 1),
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Mean of max(0, payment date - due date) over invoices paid in the "
        "last 12 months.",
    )
    paycrm_on_time_rate = fields.Float(
        string="On-time Rate (%)",
        digits=(16, 1),
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Of the invoices that fell due in the last 12 months, the share "
        "paid on or before their due date (open ones count as not on time).",
    )
    paycrm_due_count_12m = fields.Integer(
        string="Invoices Due (12 months)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_dso = fields.Float(
        string="DSO (days)",
        digits=(16, 1),
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Days sales outstanding, countback method over the last 90 days. "
        "AR = open invoice balance today; S1, S2, S3 = invoiced in the last "
        "30 days, 31-60 and 61-90 days ago. Walking back from today, each "
        "30-day period whose sales AR still exceeds counts 30 days and is "
        "taken off AR; the first period that covers the rest counts "
        "30 x rest / its sales: e.g. AR 1,500, S1 1,000, S2 1,000 gives "
        "30 + 30 x 500 / 1,000 = 45. Capped at 90 when three periods of sales "
        "do not cover AR; 0 without open invoices.",
    )
    paycrm_last_payment_date = fields.Date(
        string="Last Payment",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_reminder_count_12m = fields.Integer(
        string="Reminders (12 months)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_reminder_response_rate = fields.Float(
        string="Reminder Responsiveness (%)",
        digits=(16, 1),
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Share of the reminders sent in the last 12 months that were "
        "followed by payment within their policy's attribution window.",
    )
    paycrm_risk_rating = fields.Selection(
        const.RISK_RATINGS,
        string="Payment Rating",
        readonly=True,
        company_dependent=True,
        index=True,
        copy=False,
        groups="paycrm_connector.group_paycrm_user",
        help="A to D, from average lateness, on-time rate and the oldest overdue "
        "invoice; thresholds in Accounting settings. Not enough history while the "
        "customer has paid fewer invoices (12 months) than the minimum history, "
        "unless an invoice is overdue past the C or D limit. A is never given "
        "while an invoice is overdue. Empty without invoices.",
    )
    paycrm_risk_reasons = fields.Char(
        string="Rating Reasons",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )
    paycrm_predict_delay_days = fields.Integer(
        string="Predicted Delay (days)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Days after the due date this customer is expected to pay: its own "
        "mean lateness over the last 12 months, or the company-wide one while "
        "it has fewer paid invoices than the minimum history.",
    )
    paycrm_failed_attempts_30d = fields.Integer(
        string="Failed Payments (30 days)",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Failed gateway payment attempts on this customer's invoices in the "
        "last 30 days.",
    )
    paycrm_preferred_gateway_id = fields.Many2one(
        "paycrm.gateway",
        string="Preferred Gateway",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Gateway of most of this customer's successful payments (12 months).",
    )
    paycrm_preferred_method = fields.Char(
        string="Preferred Method",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
        help="Payment method (card, sepa_debit, paypal...) of most of this "
        "customer's successful gateway payments (12 months), as the gateway "
        "reported it.",
    )
    paycrm_profile_date = fields.Date(
        string="Profile Computed On",
        readonly=True,
        company_dependent=True,
        groups="paycrm_connector.group_paycrm_user",
    )

    @api.depends_context("company")
    def _compute_paycrm_profile_currency_id(self):
        self.paycrm_profile_currency_id = self.env.company.currency_id

    def _paycrm_recompute_profiles(self):
        self.env["paycrm.profile"]._paycrm_recompute(self)

    # Smart buttons ----------------------------------------------------------

    def action_paycrm_open_invoices(self):
        return self._paycrm_invoice_action(
            _("Open Invoices"), [("payment_state", "in", ("not_paid", "partial"))]
        )

    def action_paycrm_overdue_invoices(self):
        today = fields.Date.context_today(self)
        return self._paycrm_invoice_action(
            _("Overdue Invoices"),
            [
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ],
        )

    def _paycrm_invoice_action(self, name, domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            name=name,
            domain=[
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                *domain,
            ],
            context={"create": False},
        )
        return action
