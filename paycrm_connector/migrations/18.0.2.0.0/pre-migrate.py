"""18.0.2.0.0: customer payment profiles become per company.

The profile fields of res.partner turn company-dependent (one value per
company, a jsonb column). The old columns held one profile mixing every
company's invoices and currencies: they cannot be split, so they are dropped
here and every profile is recomputed after the update (post-migrate).
"""

from odoo.tools import SQL

PROFILE_COLUMNS = (
    "paycrm_profile_currency_id",
    "paycrm_lifetime_paid",
    "paycrm_open_amount",
    "paycrm_overdue_amount",
    "paycrm_oldest_overdue_days",
    "paycrm_paid_count_12m",
    "paycrm_avg_days_to_pay",
    "paycrm_avg_days_late",
    "paycrm_on_time_rate",
    "paycrm_due_count_12m",
    "paycrm_dso",
    "paycrm_last_payment_date",
    "paycrm_reminder_count_12m",
    "paycrm_reminder_response_rate",
    "paycrm_risk_rating",
    "paycrm_risk_reasons",
    "paycrm_predict_delay_days",
    "paycrm_failed_attempts_30d",
    "paycrm_preferred_gateway_id",
    "paycrm_preferred_method",
    "paycrm_profile_date",
)


def migrate(cr, version):
    for column in PROFILE_COLUMNS:
        cr.execute(
            SQL(
                "ALTER TABLE res_partner DROP COLUMN IF EXISTS %s",
                SQL.identifier(column),
            )
        )
