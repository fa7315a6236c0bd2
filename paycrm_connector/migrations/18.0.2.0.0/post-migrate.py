"""18.0.2.0.0: compute the per-company payment profiles (see pre-migrate)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["paycrm.profile"]._cron_paycrm_recompute_profiles()
