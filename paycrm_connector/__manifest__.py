{
    "name": "Payment CRM Connector",
    "summary": "Payment links that never go stale, gateway webhooks booked onto "
    "reconciliation, reminder automations (demo, Stripe, PayPal)",
    "version": "18.0.1.0.0",
    "category": "Accounting/Payment",
    "author": "PayCRM Connector Contributors",
    "maintainers": ["paycrm"],
    "website": "https://github.com/paycrm/paycrm_connector",
    "license": "LGPL-3",
    "depends": [
        "account",
        "mail",
        "portal",
        "sms",
        "phone_validation",
        "base_automation",
    ],
    "external_dependencies": {
        "python": ["stripe", "phonenumbers", "requests"],
    },
    "data": [
        "security/paycrm_security.xml",
        "security/ir.model.access.csv",
        "views/paycrm_gateway_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "views/paycrm_menus.xml",
    ],
    "demo": [
        "demo/paycrm_demo.xml",
    ],
    "application": True,
}
