"""Users outside the connector's groups keep every Odoo feature they had.

The addon's fields on invoices and contacts are restricted to its groups; Odoo
reads every copyable field when it duplicates or reverses a record, so such a
field must not be copied (or Odoo raises an AccessError at a user outside
them). Invoicing / Billing users are connector users by default (the group is
implied); an employee with contact rights only is not.
"""

from odoo.tests import tagged

from .common import PaycrmCommon

BILLING = ["base.group_user", "account.group_account_invoice"]


@tagged("post_install", "-at_install")
class TestFieldsOutsideGroups(PaycrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = cls._make_user("paycrm_billing_only", BILLING)
        cls.employee = cls._make_user(
            "paycrm_contacts_only", ["base.group_user", "base.group_partner_manager"]
        )
        cls.company.paycrm_gateway_id = cls.demo_gateway

    def test_groups_really_exclude_these_users(self):
        group = self.env.ref("paycrm_connector.group_paycrm_user")
        self.assertNotIn(group, self.employee.groups_id)
        # Billing users get the connector's everyday features by default.
        self.assertIn(group, self.billing.groups_id)

    def test_restricted_fields_on_odoo_models_are_not_copied(self):
        models = ("account.move", "account.move.line", "res.partner", "res.company")
        for model in models:
            for name, field in self.env[model]._fields.items():
                if name.startswith("paycrm_") and field.groups:
                    with self.subTest(model=model, field=name):
                        self.assertFalse(field.copy)

    def test_billing_user_duplicates_invoice(self):
        invoice = self._invoice(120.0)
        self.assertEqual(invoice.paycrm_gateway_id, self.demo_gateway)
        self.env.invalidate_all()  # read as the billing user, not from the cache
        copy = invoice.with_user(self.billing).copy()
        self.assertEqual(copy.state, "draft")
        self.assertEqual(copy.amount_total, 120.0)
        # Recomputed for the copy (company default), not copied from the original.
        self.assertEqual(copy.sudo().paycrm_gateway_id, self.demo_gateway)

    def test_billing_user_reverses_invoice(self):
        invoice = self._invoice(80.0)
        self.env.invalidate_all()
        wizard = (
            self.env["account.move.reversal"]
            .with_user(self.billing)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "wrong price"})
        )
        wizard.refund_moves()
        credit_note = invoice.reversal_move_ids
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.amount_total, 80.0)

    def test_billing_user_pays_and_reverses_payment(self):
        invoice = self._invoice(50.0)
        register = (
            self.env["account.payment.register"]
            .with_user(self.billing)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        payment = register._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.env.invalidate_all()
        wizard = (
            self.env["account.move.reversal"]
            .with_user(self.billing)
            .with_context(active_model="account.move", active_ids=payment.move_id.ids)
            .create({"journal_id": payment.journal_id.id, "reason": "bounced"})
        )
        wizard.reverse_moves()
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_employee_duplicates_contact(self):
        self._invoice(30.0)
        self.customer._paycrm_recompute_profiles()
        self.assertTrue(self.customer.paycrm_profile_currency_id)
        self.env.invalidate_all()
        copy = self.customer.with_user(self.employee).copy()
        self.assertEqual(copy.name, "Ada Customer (copy)")

    def test_billing_user_posts_and_emails_invoice(self):
        self.company.paycrm_send_link_on_post = True
        invoice = self._invoice(60.0, post=False)
        self.env.invalidate_all()
        invoice = invoice.with_user(self.billing)
        invoice.action_post()
        invoice.message_post(
            body="Your invoice",
            partner_ids=self.customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(invoice.state, "posted")
        self.assertGreaterEqual(invoice.sudo().paycrm_link_sent_count, 1)
