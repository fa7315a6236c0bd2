from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const


class PaycrmLinkWizard(models.TransientModel):
    """Send the stable pay link of one or many invoices (email, SMS or copy)."""

    _name = "paycrm.link.wizard"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Send Payment Link"
    _paycrm_guarded_fields = ("move_ids",)

    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        required=True,
        default=lambda self: self._default_move_ids(),
    )
    move_count = fields.Integer(compute="_compute_move_count")
    currency_id = fields.Many2one("res.currency", compute="_compute_move_count")
    residual = fields.Monetary(string="Amount Due", compute="_compute_move_count")
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="Leave the amount due for a full payment, or lower it for a deposit. "
        "Only for a single invoice.",
    )
    channel = fields.Selection(const.LINK_CHANNELS, required=True, default="email")
    message = fields.Text(help="Added above the link in the email or SMS.")
    link_url = fields.Char(string="Link", compute="_compute_link_url")

    def _default_move_ids(self):
        if self.env.context.get("active_model") != "account.move":
            return False
        return [fields.Command.set(self.env.context.get("active_ids") or [])]

    @api.depends("move_ids")
    def _compute_move_count(self):
        for wizard in self:
            wizard.move_count = len(wizard.move_ids)
            single = wizard.move_ids if len(wizard.move_ids) == 1 else False
            wizard.currency_id = (
                single.currency_id if single else self.env.company.currency_id
            )
            wizard.residual = single.amount_residual if single else 0.0

    @api.depends("move_ids")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = (
                wizard.move_ids.amount_residual if len(wizard.move_ids) == 1 else 0.0
            )

    @api.depends("move_ids", "amount")
    def _compute_link_url(self):
        for wizard in self:
            move = wizard.move_ids if len(wizard.move_ids) == 1 else False
            wizard.link_url = (
                move._paycrm_pay_url(amount=wizard.amount or None)
                if move and move._paycrm_is_payable()
                else False
            )

    @api.constrains("amount", "move_ids")
    def _check_amount(self):
        for wizard in self.filtered(lambda w: w.move_count == 1):
            currency = wizard.currency_id
            if currency.compare_amounts(wizard.amount, 0) <= 0:
                raise ValidationError(_("The amount to pay must be positive."))
            if currency.compare_amounts(wizard.amount, wizard.residual) > 0:
                raise ValidationError(
                    _(
                        "The amount to pay (%(amount)s) is above the amount due "
                        "(%(residual)s).",
                        amount=wizard.amount,
                        residual=wizard.residual,
                    )
                )

    def action_send(self):
        self.ensure_one()
        self._paycrm_guard()
        payable = self.move_ids.filtered(lambda m: m._paycrm_is_payable())
        if not payable:
            raise UserError(
                _(
                    "None of the selected invoices can be paid online: they must be "
                    "posted customer invoices with an amount due and a gateway."
                )
            )
        amount = self.amount if self.move_count == 1 else None
        notes = payable._paycrm_send_link(
            channel=self.channel, amount=amount, message=self.message
        )
        skipped = len(self.move_ids) - len(payable)
        message = _("Payment link sent for %(count)s invoice(s).", count=len(payable))
        if skipped:
            message += " " + _(
                "%(count)s skipped (nothing to pay online).", count=skipped
            )
        if notes:
            message += " " + " ".join(notes)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Send Payment Link"),
                "message": message,
                "type": "warning" if notes or skipped else "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
