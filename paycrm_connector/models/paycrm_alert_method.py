from odoo import fields, models


# Saved-method alerts, beside the payment alerts of paycrm_alert.py.
class PaycrmAlert(models.Model):
    _inherit = "paycrm.alert"  # pylint: disable=consider-merging-classes-inherited

    kind = fields.Selection(
        selection_add=[("method_expiring", "Payment method expiring")],
        ondelete={"method_expiring": "cascade"},
    )
