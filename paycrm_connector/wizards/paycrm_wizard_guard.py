from odoo import _, api, models
from odoo.exceptions import AccessError


class PaycrmWizardGuard(models.AbstractModel):
    """What every connector wizard checks of the records it is opened on.

    A wizard is created over RPC with any ids, and its code reads some of
    those records as superuser (event payloads, gateway settings): the ORM's
    record rules do not stop that, and values the superuser read land in the
    shared cache where the user's own reads then find them. So each wizard
    names its record fields, and they are checked against the user's rights
    and active companies on create, on write and before each action.
    """

    _name = "paycrm.wizard.guard"
    _description = "Connector Wizard Access Check"

    # Names of the relational fields whose records the wizard reads or acts on.
    _paycrm_guarded_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        wizards._paycrm_guard()
        return wizards

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & set(self._paycrm_guarded_fields):
            self._paycrm_guard()
        return res

    def _paycrm_guard(self):
        """Raise ``AccessError`` unless the user may read every guarded record
        and each belongs to a company active in this session."""
        if self.env.su:
            return  # the superuser (crons, server code) is trusted
        companies = self.env.companies
        for name in self._paycrm_guarded_fields:
            # sudo: read the ids and companies as stored, not through the
            # cache the user's reads may share with earlier superuser reads.
            records = self.sudo().mapped(name)
            if not records:
                continue
            records.with_env(self.env).check_access("read")
            if "company_id" not in records._fields:
                continue
            outside = records.filtered(
                lambda r: r.company_id and r.company_id not in companies
            )
            if outside:
                raise AccessError(
                    _(
                        "%(records)s belong to %(company)s, not to the companies "
                        "you are working in: switch company first.",
                        records=", ".join(outside.mapped("display_name")),
                        company=", ".join(outside.company_id.mapped("name")),
                    )
                )
