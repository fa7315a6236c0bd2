"""Crafted payment histories for profile, analysis and alert tests."""

from odoo import Command, fields

from .common import PaycrmCommon


class InsightsCommon(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.partner"].create({"name": "Bob Other"})

    def _invoice_on(
        self, amount, invoice_date, due_date, partner=None, company=None, currency=None
    ):
        company = company or self.env.company
        invoice = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or self.customer).id,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_date": fields.Date.to_date(invoice_date),
                    "invoice_date_due": fields.Date.to_date(due_date),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def _pay(self, invoices, date, amount=None, company=None):
        vals = {"payment_date": fields.Date.to_date(date)}
        if amount is not None:
            vals["amount"] = amount
        return (
            self.env["account.payment.register"]
            .with_company(company or self.env.company)
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(vals)
            ._create_payments()
        )

    def _commit_hooks(self):
        """What COMMIT does first: flush and run the pre-commit queue."""
        self.env.cr.flush()

    def _history(self):
        """Ada: three paid invoices (0, 10, 20 days late), one open not yet due,
        one 16 days overdue; Bob: one invoice paid 5 days late, one open.
        Today is 2024-06-30."""
        inv = {
            "paid_on_time": self._invoice_on(1000, "2024-03-01", "2024-03-31"),
            "paid_10_late": self._invoice_on(1000, "2024-04-01", "2024-04-30"),
            "paid_20_late": self._invoice_on(1000, "2024-05-02", "2024-06-01"),
            "open_not_due": self._invoice_on(600, "2024-06-10", "2024-07-10"),
            "open_overdue": self._invoice_on(900, "2024-05-15", "2024-06-14"),
            "bob_paid": self._invoice_on(400, "2024-06-01", "2024-06-11", self.other),
            "bob_open": self._invoice_on(300, "2024-06-05", "2024-07-05", self.other),
        }
        self._pay(inv["paid_on_time"], "2024-03-31")
        self._pay(inv["paid_10_late"], "2024-05-10")
        self._pay(inv["paid_20_late"], "2024-06-21")
        self._pay(inv["bob_paid"], "2024-06-16")
        return inv
