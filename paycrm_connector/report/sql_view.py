from odoo import tools
from odoo.tools import SQL


def replace_view(model):
    """(Re)create the SQL view behind report ``model`` from its ``_paycrm_query()``."""
    tools.drop_view_if_exists(model.env.cr, model._table)
    model.env.cr.execute(
        SQL(
            "CREATE OR REPLACE VIEW %s AS (%s)",
            SQL.identifier(model._table),
            model._paycrm_query(),
        )
    )
