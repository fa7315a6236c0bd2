"""Invoices' stable links sent by email and SMS, and the link funnel counters
(sent -> opened -> failed attempts) kept on the invoice."""

from dataclasses import dataclass, field
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .. import const


@dataclass
class PaycrmSendOutcome:
    """What ``_paycrm_send_link`` did: the invoices whose link reached the
    customer by at least one channel, and per invoice the channels skipped
    with the reason (already noted on the invoice)."""

    sent: models.BaseModel
    skipped: dict = field(default_factory=dict)

    def notes(self):
        return [
            f"{move.name}: {note}"
            for move, notes in self.skipped.items()
            for note in notes
        ]


class PaycrmLinkSender(models.AbstractModel):
    """Sends invoices' stable pay links (Odoo's mail composer and ``sms``) and
    counts what happens to them; every method takes the invoices."""

    _name = "paycrm.link.sender"
    _description = "Payment Link Sender"

    # ---------------------------------------------------------------- sending

    @api.model
    def _paycrm_send_link(self, moves, channel="email", amount=None, message=None):
        """Send the stable link of each of ``moves`` by ``channel``; no gateway
        call.

        Emails go out as one batch-rendered mailing (one logged message per
        invoice in its chatter); SMS through Odoo's ``sms`` module to the E.164
        mobile. A channel a customer cannot receive is skipped with a note on
        the invoice. Returns a ``PaycrmSendOutcome``: what was really sent,
        and why the rest was not. ``amount`` (a deposit) needs one invoice.
        """
        unpayable = moves.filtered(lambda m: not m._paycrm_is_payable())
        if unpayable:
            raise UserError(
                _(
                    "%(invoices)s has no payment link: it must be a posted customer "
                    "invoice with an amount due and an enabled payment gateway.",
                    invoices=", ".join(unpayable.mapped("display_name")),
                )
            )
        if amount is not None:
            moves.ensure_one()
        skipped = {}
        sent = moves.browse()
        if channel in ("email", "email_sms"):
            no_email = moves.filtered(lambda m: not m.partner_id.email)
            for move in no_email:
                skipped[move] = [
                    _(
                        "Email skipped: %(partner)s has no email address.",
                        partner=move.partner_id.display_name,
                    )
                ]
            self._paycrm_mail_links(moves - no_email, amount, message)
            sent |= moves - no_email
        if channel in ("sms", "email_sms"):
            url_model = self.env["paycrm.link.url"]
            for move in moves:
                partner = move.partner_id
                if partner.paycrm_mobile_e164:
                    url = url_model._paycrm_pay_url(move, amount)
                    move._message_sms(
                        self._paycrm_sms_body(move, url, message),
                        partner_ids=partner.ids,
                        sms_pid_to_number={partner.id: partner.paycrm_mobile_e164},
                    )
                    sent |= move
                    continue
                skipped.setdefault(move, []).append(partner._paycrm_sms_skip_reason())
        # sudo: counting a send needs no right on the invoice fields.
        self._paycrm_note_link_sent(sent.sudo())
        for move, notes in skipped.items():
            move.message_post(body=" ".join(notes), subtype_xmlid="mail.mt_note")
        return PaycrmSendOutcome(sent=sent, skipped=skipped)

    @api.model
    def _paycrm_send_payable(self, moves, channel="email"):
        """Send the links of those of ``moves`` that can be paid online, skipping
        the rest instead of failing the whole batch (Automation Rules)."""
        return self._paycrm_send_link(
            moves.filtered(lambda m: m._paycrm_is_payable()), channel
        )

    @api.model
    def _paycrm_mail_links(self, moves, amount=None, message=None):
        if not moves:
            return
        template = self.env.ref("paycrm_connector.mail_template_paycrm_payment_link")
        context = {"paycrm_link_message": message or ""}
        if len(moves) == 1:
            context["paycrm_link_url"] = self.env["paycrm.link.url"]._paycrm_pay_url(
                moves, amount
            )
        else:
            # Tokens first, in one go: the template reads paycrm_link_url.
            for move in moves.filtered(lambda m: not m.access_token):
                move._portal_ensure_token()
        composer = (
            self.env["mail.compose.message"]
            .with_context(**context)
            .create(
                {
                    "composition_mode": "mass_mail",
                    "model": moves._name,
                    "res_ids": moves.ids,
                    "template_id": template.id,
                    "subtype_id": self.env.ref("mail.mt_comment").id,
                    "auto_delete_keep_log": True,
                }
            )
        )
        composer._action_send_mail()

    @api.model
    def _paycrm_sms_body(self, move, url, message=None):
        body = _(
            "%(company)s: invoice %(invoice)s, %(amount)s due. Pay online: %(url)s",
            company=move.company_id.name,
            invoice=move.name,
            amount=format_amount(self.env, move.amount_residual, move.currency_id),
            url=url,
        )
        return f"{message}\n{body}" if message else body

    # ----------------------------------------------------------------- funnel

    @api.model
    def _paycrm_note_link_sent(self, moves):
        """Count one more send of ``moves``' links (the link funnel).

        Raw SQL: an ORM write of account.move runs its accounting checks for
        what is a counter, and a reminder run sends thousands at once."""
        if not moves:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE account_move
                      SET paycrm_link_sent_count =
                              COALESCE(paycrm_link_sent_count, 0) + 1,
                          paycrm_link_first_sent = COALESCE(paycrm_link_first_sent, %s)
                    WHERE id = ANY(%s)""",
                fields.Datetime.now(),
                moves.ids,
            )
        )
        moves.invalidate_recordset(["paycrm_link_sent_count", "paycrm_link_first_sent"])

    @api.model
    def _paycrm_note_link_opened(self, move):
        """The customer opened ``move``'s stable link: the one writer of
        *Link First Opened* (first time only: no row lock on later clicks)."""
        move.ensure_one()
        # sudo: staff opening a checkout (Create payment link) count as a
        # click too, whatever their rights on the funnel fields.
        if move.sudo().paycrm_link_first_opened:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE account_move
                      SET paycrm_link_first_opened = %s
                    WHERE id = %s AND paycrm_link_first_opened IS NULL""",
                fields.Datetime.now(),
                move.id,
            )
        )
        move.invalidate_recordset(["paycrm_link_first_opened"])

    @api.model
    def _paycrm_note_link_failure(self, move, body):
        """Count a customer's failed attempt on ``move``'s link; note it in the
        chatter at most once an hour per invoice.

        Called from public routes: a visitor repeating a failing click must not
        add a chatter line each time (the caller's warning log keeps every
        one). Raw SQL, as the funnel counters: the ORM write of account.move
        runs its accounting checks for a counter.
        """
        move.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m
                      SET paycrm_link_failure_count =
                              COALESCE(m.paycrm_link_failure_count, 0) + 1,
                          paycrm_link_failure_noted = CASE
                              WHEN old.noted IS NULL OR old.noted <= %(since)s
                              THEN %(now)s ELSE old.noted END
                     FROM (SELECT id, paycrm_link_failure_noted AS noted
                             FROM account_move WHERE id = %(id)s FOR UPDATE) old
                    WHERE m.id = old.id
                RETURNING old.noted, m.paycrm_link_failure_count""",
                id=move.id,
                now=now,
                since=now - timedelta(seconds=const.LINK_FAILURE_NOTE_SECONDS),
            )
        )
        noted, count = self.env.cr.fetchone()
        move.invalidate_recordset(
            ["paycrm_link_failure_count", "paycrm_link_failure_noted"]
        )
        if noted and noted > now - timedelta(seconds=const.LINK_FAILURE_NOTE_SECONDS):
            return
        move.message_post(
            body=self.env._(
                "%(failure)s Failed attempts on this link so far: %(count)s; more "
                "within the hour are counted on the invoice, not noted.",
                failure=body,
                count=count,
            ),
            subtype_xmlid="mail.mt_note",
        )
