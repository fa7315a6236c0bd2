from odoo import fields, models


# The gateway's saved-method settings, beside its configuration (paycrm_gateway.py).
class PaycrmGateway(models.Model):
    _inherit = "paycrm.gateway"

    offer_save_method = fields.Boolean(
        string="Offer to Save Methods",
        help="Before checkout, the pay link offers the customer to save their "
        "card or bank account for future invoices (with the consent wording). "
        "Only for gateways that save methods and know the customer.",
    )
