"""Lookup tables shared by models, views and adapters."""

PROVIDERS = [
    ("demo", "Demo (no account needed)"),
    ("stripe", "Stripe"),
]

GATEWAY_STATES = [
    ("disabled", "Disabled"),
    ("test", "Test mode"),
    ("live", "Live"),
]

CONNECTION_STATES = [
    ("unknown", "Not checked"),
    ("ok", "Connected"),
    ("auth", "Authentication failed"),
    ("unreachable", "Unreachable"),
    ("error", "Error"),
]

LINK_STATES = [
    ("none", "No link"),
    ("active", "Active"),
    ("paid", "Paid"),
    ("cancelled", "Cancelled"),
]

REMINDER_CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("both", "Email and SMS"),
]

# Stripe Checkout Sessions live between 30 minutes and 24 hours.
STRIPE_SESSION_MIN_HOURS = 0.5
STRIPE_SESSION_MAX_HOURS = 24.0

# Keys carried in gateway metadata so an event finds its invoice again.
META_INVOICE_ID = "paycrm_invoice_id"
META_INVOICE_NAME = "paycrm_invoice_name"
META_COMPANY_ID = "paycrm_company_id"
META_DB = "paycrm_db"
META_LINK_ID = "paycrm_link_id"

# Normalised event kinds: every adapter maps its payloads onto these, so the
# accounting code is written once for all gateways.
EVENT_KINDS = [
    ("payment_succeeded", "Payment succeeded"),
    ("payment_failed", "Payment failed"),
    ("payment_pending", "Payment pending"),
    ("payment_canceled", "Payment canceled"),
    ("refund_succeeded", "Refund succeeded"),
    ("refund_failed", "Refund failed"),
    ("dispute_opened", "Dispute opened"),
    ("dispute_funds_withdrawn", "Dispute funds withdrawn"),
    ("dispute_funds_reinstated", "Dispute funds reinstated"),
    ("dispute_closed", "Dispute closed"),
    ("payout_paid", "Payout paid"),
    ("payout_failed", "Payout failed"),
    ("session_expired", "Checkout session expired"),
    ("other", "Not handled"),
]

# Demo gateway event types (its own small vocabulary, Stripe-like in shape).
DEMO_EVENT_KINDS = {
    "payment.succeeded": "payment_succeeded",
    "payment.failed": "payment_failed",
    "refund.succeeded": "refund_succeeded",
    "dispute.opened": "dispute_opened",
    "dispute.closed": "dispute_closed",
    "payout.paid": "payout_paid",
}

# Payment link sessions (paycrm.link): one row per hosted checkout session.
LINK_SESSION_STATES = [
    ("open", "Open"),
    ("closing", "To Expire"),
    ("paid", "Paid"),
    ("expired", "Expired"),
]
# A session this close to its expiry is not handed out again: the customer
# needs time to fill in the gateway's form.
LINK_REUSE_MARGIN_MINUTES = 15
# Expiring a stale session at the gateway is retried by cron this many times.
LINK_EXPIRE_MAX_TRIES = 8
# Timeout of the demo hosted page's webhook POST to this same server.
DEMO_WEBHOOK_TIMEOUT = 10
LINK_CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("email_sms", "Email and SMS"),
    ("copy", "Copy the link"),
]
