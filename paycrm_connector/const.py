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
