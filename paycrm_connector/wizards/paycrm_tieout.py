from odoo import _, api, fields, models

from ..gateways import GatewayError, money


class PaycrmTieout(models.TransientModel):
    """Clearing journal vs the gateway's own balance, differences listed."""

    _name = "paycrm.tieout"
    _inherit = ["paycrm.wizard.guard"]
    _description = "Gateway Tie-out"
    _check_company_auto = True
    _paycrm_guarded_fields = ("gateway_id",)

    gateway_id = fields.Many2one("paycrm.gateway", required=True, readonly=True)
    company_id = fields.Many2one(related="gateway_id.company_id")
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        help="The currency the gateway's balance settles in: the clearing "
        "journal's own currency, else the company's.",
    )
    clearing_balance = fields.Monetary(readonly=True)
    gateway_balance = fields.Monetary(readonly=True)
    gateway_known = fields.Boolean(readonly=True)
    difference = fields.Monetary(compute="_compute_difference")
    message = fields.Char(readonly=True)
    line_ids = fields.One2many("paycrm.tieout.line", "tieout_id", readonly=True)

    @api.depends("gateway_id")
    def _compute_currency_id(self):
        for wizard in self:
            journal = wizard.gateway_id.journal_id
            wizard.currency_id = journal.currency_id or wizard.company_id.currency_id

    @api.depends("clearing_balance", "gateway_balance", "gateway_known")
    def _compute_difference(self):
        for wizard in self:
            wizard.difference = (
                wizard.gateway_balance - wizard.clearing_balance
                if wizard.gateway_known
                else 0.0
            )

    def _paycrm_compute_lines(self):
        """Each currency the gateway's balance holds, compared apart: the
        clearing account's amounts in that currency against the gateway's
        balance in it, and its movements one by one."""
        self.ensure_one()
        # The gateway is asked with its secret key, read as superuser.
        self._paycrm_guard()
        gateway = self.gateway_id
        main = self.currency_id
        clearing = self._paycrm_clearing_by_currency()
        settled = self.env["paycrm.event"]._read_group(
            [("gateway_id", "=", gateway.id), ("settle_currency_id", "!=", False)],
            groupby=["settle_currency_id"],
        )
        currencies = main | self.env["res.currency"].browse(
            [cur.id for cur in clearing] + [cur.id for (cur,) in settled]
        )
        self.clearing_balance = clearing.get(main, 0.0)
        adapter = gateway._paycrm_adapter()
        rows = []
        index = self._paycrm_booking_index()
        for currency in currencies:
            exponent = adapter.currency_exponent(currency.name, currency.decimal_places)
            try:
                balance = adapter.balance(currency.name)
                since = self._paycrm_last_payout()
                txns = adapter.balance_transactions(currency.name, since=since)
            except GatewayError as exc:
                self.message = _("Gateway unreachable: %(error)s", error=str(exc))
                return
            if balance is None:
                self.message = _("This gateway does not report a balance.")
                return
            gateway_balance = float(money.from_minor(balance, exponent))
            if currency == main:
                self.gateway_balance = gateway_balance
            elif currency.compare_amounts(gateway_balance, clearing.get(currency, 0.0)):
                rows.append(
                    {
                        "reference": _("Balance"),
                        "kind": "balance",
                        "currency_id": currency.id,
                        "gateway_amount": gateway_balance,
                        "booked_amount": clearing.get(currency, 0.0),
                        "note": _("Balance in %(cur)s differs", cur=currency.name),
                    }
                )
            rows += self._paycrm_diff(txns, exponent, currency, index)
        self.gateway_known = True
        self.line_ids = [fields.Command.create(vals) for vals in rows]
        self.message = (
            _("Ties out.")
            if not rows and not main.compare_amounts(self.difference, 0)
            else _("Differences found: see the lines below.")
        )

    def _paycrm_clearing_by_currency(self):
        """``{currency: amount}`` the clearing account holds, per currency."""
        account = self.gateway_id.journal_id.default_account_id
        groups = self.env["account.move.line"]._read_group(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")],
            groupby=["currency_id"],
            aggregates=["amount_currency:sum"],
        )
        return {currency: total for currency, total in groups}

    def _paycrm_last_payout(self):
        payout = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", self.gateway_id.id),
                ("booking_key", "=like", "payout:%"),
            ],
            order="created desc",
            limit=1,
        )
        return int(payout.created.timestamp()) if payout.created else 0

    # Which booking a gateway balance transaction is, by its type (and, for
    # dispute adjustments, its direction): the transaction's source is the
    # charge, refund or dispute it moved money for, and each booking is keyed
    # "<what>:<gateway object>" (see paycrm.booking).
    TXN_BOOKINGS = {
        "charge": ("pay",),
        "payment": ("pay",),
        "refund": ("refund",),
        "payment_refund": ("refund",),
        "refund_failure": ("refund-back",),
        "payment_failure_refund": ("refund-back",),
    }

    def _paycrm_booking_index(self):
        """``{(what, gateway object id): booked event}`` of this gateway."""
        events = self.env["paycrm.event"].search(
            [
                ("gateway_id", "=", self.gateway_id.id),
                ("move_id", "!=", False),
                ("booking_key", "!=", False),
            ]
        )
        index = {}
        for event in events:
            what, _sep, ref = event.booking_key.partition(":")
            for key in {ref, event.object_ref, event.payment_ref, event.charge_ref}:
                if key:
                    index.setdefault((what, key), event)
        return index

    def _paycrm_diff(self, txns, exponent, currency, index):
        """The gateway's movements in ``currency`` the books lack or book
        differently; an empty list when everything ties."""
        rows = []
        for txn in txns:
            net = float(money.from_minor(txn.get("net") or 0, exponent))
            source = txn.get("source") or ""
            kinds = self.TXN_BOOKINGS.get(txn.get("type"))
            if kinds is None:
                # Dispute adjustments: money out when opened, back when won.
                kinds = ("dispute-out",) if net < 0 else ("dispute-in",)
            event = next(
                (index[(what, source)] for what in kinds if (what, source) in index),
                None,
            )
            if not event:
                rows.append(
                    {
                        "reference": source or txn.get("id"),
                        "kind": txn.get("type"),
                        "currency_id": currency.id,
                        "gateway_amount": net,
                        "note": _("Not booked"),
                    }
                )
                continue
            sign = -1 if net < 0 else 1
            settled_in, gross, fee = event._paycrm_settled()
            booked_net = sign * (gross - sign * fee)
            if settled_in != currency or currency.compare_amounts(booked_net, net):
                rows.append(
                    {
                        "reference": source,
                        "kind": txn.get("type"),
                        "currency_id": currency.id,
                        "gateway_amount": net,
                        "booked_amount": booked_net,
                        "event_id": event.id,
                        "note": _("Amounts differ"),
                    }
                )
        return rows
