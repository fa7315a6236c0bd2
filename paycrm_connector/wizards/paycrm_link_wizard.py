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
    link_list = fields.Text(
        string="Links",
        compute="_compute_link_url",
        help="One line per invoice that can be paid online: its number and its "
        "stable pay URL.",
    )

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
        url_model = self.env["paycrm.link.url"]
        for wizard in self:
            # _origin: in the open dialog the wizard is a new record and its
            # invoices are new-record copies; the URL must carry the saved
            # invoice's id (a "NewId_33" URL is a 404).
            moves = wizard.move_ids._origin.filtered(lambda m: m._paycrm_is_payable())
            if len(wizard.move_ids) == 1:
                wizard.link_url = (
                    url_model._paycrm_pay_url(moves, amount=wizard.amount or None)
                    if moves
                    else False
                )
                wizard.link_list = False
            else:
                wizard.link_url = False
                wizard.link_list = "\n".join(
                    f"{move.name}  {url_model._paycrm_pay_url(move)}" for move in moves
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
        outcome = self.env["paycrm.link.sender"]._paycrm_send_link(
            payable, channel=self.channel, amount=amount, message=self.message
        )
        lines = []
        if outcome.sent:
            lines.append(
                _(
                    "Payment link sent for %(count)s of %(total)s invoice(s).",
                    count=len(outcome.sent),
                    total=len(self.move_ids),
                )
            )
        else:
            lines.append(_("No payment link was sent."))
        unpayable = self.move_ids - payable
        if unpayable:
            lines.append(
                _(
                    "%(count)s skipped (nothing to pay online): %(invoices)s.",
                    count=len(unpayable),
                    invoices=", ".join(unpayable.mapped("display_name")),
                )
            )
        lines += outcome.notes()
        problems = len(lines) > 1
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Send Payment Link"),
                "message": "\n".join(lines),
                "type": (
                    "danger"
                    if not outcome.sent
                    else "warning"
                    if problems
                    else "success"
                ),
                "sticky": problems,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
