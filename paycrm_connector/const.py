"""Lookup tables shared by models, views and adapters."""

PROVIDERS = [
    ("demo", "Demo (no account needed)"),
    ("stripe", "Stripe"),
    ("paypal", "PayPal"),
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

# A PayPal order the payer has not approved lapses about 3 hours after creation,
# so a link never reuses one for longer, whatever the gateway's link lifetime.
PAYPAL_ORDER_MAX_HOURS = 3.0

# Keys carried in gateway metadata so an event finds its invoice again.
META_INVOICE_ID = "paycrm_invoice_id"
META_INVOICE_NAME = "paycrm_invoice_name"
META_COMPANY_ID = "paycrm_company_id"
META_DB = "paycrm_db"
META_LINK_ID = "paycrm_link_id"
# The partner a page saving a payment method is for (Stripe setup sessions).
META_PARTNER_ID = "paycrm_partner_id"
# Auto-pay (paycrm.autopay.attempt): what became of one try at charging an
# invoice's saved method. draft: claimed, its call not answered yet; sent: the
# call got no answer (sent again with the same idempotency key).
AUTOPAY_ATTEMPT_STATES = [
    ("draft", "Claimed"),
    ("sent", "Sent, no answer yet"),
    ("succeeded", "Succeeded"),
    ("processing", "Processing"),
    ("declined", "Declined"),
    ("action_required", "Customer Action Required"),
    ("error", "Error"),
]
# Saved method types that take only some currencies (a debit scheme's own).
AUTOPAY_METHOD_CURRENCIES = {"sepa_debit": ("EUR",), "us_bank_account": ("USD",)}

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
    ("method_saved", "Payment method saved"),
    ("method_removed", "Payment method removed"),
    ("other", "Not handled"),
]

# Saved payment methods (paycrm.payment.method): what a gateway can charge
# again without the customer. A card paid through Apple Pay or Google Pay is
# a "wallet" (its ``wallet`` says which).
METHOD_TYPES = [
    ("card", "Card"),
    ("sepa_debit", "SEPA Direct Debit"),
    ("us_bank_account", "US bank account (ACH)"),
    ("wallet", "Wallet"),
]
# ``ChargeResult.decline_code`` of a charge the gateway refused because the
# saved method is gone (detached, deleted, unknown): the customer must save
# another one, like after an ``expired_card`` decline.
DECLINE_METHOD_GONE = "payment_method_gone"
# Bank debits: the payment is "processing" for days before it succeeds or fails.
DELAYED_METHOD_TYPES = ("sepa_debit", "us_bank_account")
# Auto-pay: days after a declined charge the next attempts are made (default
# of the company setting).
AUTOPAY_RETRY_DAYS = "1,3,7"

# Demo gateway event types (its own small vocabulary, Stripe-like in shape).
DEMO_EVENT_KINDS = {
    "payment.succeeded": "payment_succeeded",
    "payment.failed": "payment_failed",
    "payment.processing": "payment_pending",
    "method.saved": "method_saved",
    "method.removed": "method_removed",
    "refund.succeeded": "refund_succeeded",
    "dispute.opened": "dispute_opened",
    "dispute.closed": "dispute_closed",
    "payout.paid": "payout_paid",
    "payout.failed": "payout_failed",
}

# PayPal webhook event types handled (Orders v2 captures, refunds, disputes).
# A reversal is PayPal taking captured money back without a merchant refund
# (chargeback, funding reversal): booked like dispute funds leaving the account.
PAYPAL_EVENT_KINDS = {
    "PAYMENT.CAPTURE.COMPLETED": "payment_succeeded",
    "PAYMENT.CAPTURE.PENDING": "payment_pending",
    "PAYMENT.CAPTURE.DENIED": "payment_failed",
    "PAYMENT.CAPTURE.REFUNDED": "refund_succeeded",
    "PAYMENT.CAPTURE.REVERSED": "dispute_funds_withdrawn",
    "CUSTOMER.DISPUTE.CREATED": "dispute_opened",
    "CUSTOMER.DISPUTE.RESOLVED": "dispute_closed",
}

# Dispute statuses after which a dispute never reopens (Stripe's won, lost and
# warning_closed; a PayPal dispute resolved as won/lost/closed; a reversed
# PayPal capture). Compared in lower case.
DISPUTE_FINAL_STATUSES = frozenset(
    {"won", "lost", "closed", "warning_closed", "reversed"}
)

# How a resolved PayPal dispute ended for the merchant (dispute_outcome.outcome_code):
# "won" keeps the money, "lost" means it went back to the buyer.
PAYPAL_DISPUTE_OUTCOMES = {
    "RESOLVED_SELLER_FAVOUR": "won",
    "CANCELED_BY_BUYER": "won",
    "DENIED": "won",
    "RESOLVED_WITH_PAYOUT": "won",
    "RESOLVED_BUYER_FAVOUR": "lost",
    "ACCEPTED": "lost",
    "REFUNDED": "lost",
}

# Outcome of one (invoice, stage) reminder, as stored on paycrm.reminder.log.
# A reminder log's result follows its message: pending while the run claims it,
# queued until the mail (or SMS) leaves, then what Odoo's notification says.
REMINDER_RESULTS = [
    ("pending", "Pending"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("fallback", "Sent (fallback channel)"),
    ("failed", "Failed"),
    ("bounced", "Bounced"),
]
# Results that reached the customer.
REMINDER_DELIVERED = ("sent", "fallback")
# mail.notification status -> reminder log result ("pending" is an SMS the
# provider accepted: Odoo shows it as sent).
NOTIFICATION_RESULTS = {
    "ready": "queued",
    "process": "queued",
    "pending": "sent",
    "sent": "sent",
    "exception": "failed",
    "canceled": "failed",
    "bounce": "bounced",
}

ESCALATION_TARGETS = [
    ("none", "No escalation"),
    ("salesperson", "Salesperson"),
    ("user", "Named user"),
]


RISK_RATINGS = [
    ("A", "A - pays on time"),
    ("B", "B - slips a little"),
    ("C", "C - often late"),
    ("D", "D - high risk"),
    # Fewer paid invoices than the minimum history: no grade is earned yet.
    ("new", "Not enough history"),
]

# ir.config_parameter keys (database-wide, like the profiles they tune) and
# their shipped defaults.
ICP_PREFIX = "paycrm_connector."
PROFILE_DEFAULTS = {
    # Paid invoices a customer needs before its own history is trusted (rating
    # rules on lateness and the predicted pay date); below it, company history.
    "profile_min_history": 3,
    "risk_b_days_late": 3,
    "risk_c_days_late": 15,
    "risk_d_days_late": 45,
    "risk_b_on_time": 90,
    "risk_c_on_time": 60,
    "risk_c_overdue_days": 30,
    "risk_d_overdue_days": 90,
}

# Days per DSO countback period and number of periods (3 x 30 = last 90 days).
DSO_PERIOD_DAYS = 30
DSO_PERIODS = 3

ALERT_KINDS = [
    ("large_payment", "Unusually large payment"),
    ("failed_attempts", "Repeated failed payments"),
    ("card_country", "Card country differs from customer"),
    ("dispute_opened", "Dispute opened"),
    ("refund_share", "High refund share"),
    ("webhook_missed", "Webhooks missed"),
    ("webhook_silent", "No webhooks received"),
    ("signature_failures", "Webhook signature failures"),
    ("debit_failed", "Direct debit failed"),
]

ALERT_STATES = [
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
]

# Webhook event store (paycrm.event).
EVENT_STATES = [
    ("received", "Received"),
    ("done", "Done"),
    ("ignored", "Ignored"),
    ("unmatched", "Unmatched"),
    ("failed", "Failed"),
]
# Largest webhook body accepted (bytes); gateways send a few KiB.
WEBHOOK_MAX_BYTES = 1024 * 1024
# Stripe signs a timestamp: older (or newer) signatures are replays.
WEBHOOK_TOLERANCE_SECONDS = 300
# Deepest JSON nesting a webhook body may have: real events nest under 10
# levels, and Python's parser recurses once per level (a deep body would end
# in a RecursionError).
WEBHOOK_MAX_JSON_DEPTH = 64
# Longest event id or type stored (the columns' display and index stay sane).
EVENT_FIELD_MAX_LENGTH = 255
# An event's own timestamp must fall in [2000-01-01, 2100-01-01) UTC: outside,
# it is junk, and a datetime built from it could overflow.
EVENT_CREATED_MIN = 946684800
EVENT_CREATED_MAX = 4102444800
# Retry delay after the n-th failed attempt: base * 2**(n-1), capped.
EVENT_RETRY_BASE_SECONDS = 30
EVENT_RETRY_MAX_SECONDS = 6 * 3600
# Events stored unverified (the gateway's verification API did not answer) are
# asked again with the same back-off, capped lower: the first answer books
# every waiting event of the gateway, so the cap bounds how long an outage's
# end goes unnoticed. They are asked for as long as the gateway would have
# retried the delivery (the gateway's Verification Window; PayPal retries an
# undelivered webhook for 3 days), then end failed.
VERIFY_RETRY_MAX_SECONDS = 15 * 60
VERIFY_WINDOW_HOURS = 72

# Catch-up sync (paycrm.gateway sync_*): how far back a gateway lists its
# events when its adapter does not say (Stripe keeps 30 days), how much each
# sync re-reads before where the last one ended, the longest wait after a
# busy gateway, how old an event found only by the sync must be to count as
# missed by the webhook (younger ones may be on their way), and how many
# pages "Sync now" reads in the request before the cron takes over.
SYNC_HISTORY_DAYS = 30
SYNC_OVERLAP_MINUTES = 60
SYNC_BACKOFF_CAP_SECONDS = 3600
SYNC_MISSED_GRACE_MINUTES = 10
SYNC_PAGES_PER_REQUEST = 20
# Events claimed, booked and committed together by the processor (system
# parameter, tunable): larger batches mean fewer commits, longer locks.
EVENT_BATCH_SIZE_PARAM = "paycrm_connector.event_batch_size"
EVENT_BATCH_SIZE = 50

# Stripe event types we book, and the normalised kind each becomes (as
# payment_stripe's HANDLED_WEBHOOK_EVENTS). Anything else is stored as ignored.
STRIPE_EVENT_KINDS = {
    "checkout.session.completed": "payment_succeeded",
    "checkout.session.async_payment_succeeded": "payment_succeeded",
    "checkout.session.async_payment_failed": "payment_failed",
    "checkout.session.expired": "session_expired",
    "payment_intent.succeeded": "payment_succeeded",
    "payment_intent.payment_failed": "payment_failed",
    "payment_intent.canceled": "payment_canceled",
    # A bank debit (SEPA, ACH) submitted: the money arrives days later.
    "payment_intent.processing": "payment_pending",
    # Saved payment methods (a checkout.session.completed in setup mode is
    # method_saved too: ``stripe_events.event_kind``).
    "setup_intent.succeeded": "method_saved",
    "payment_method.detached": "method_removed",
    "charge.refunded": "refund_succeeded",
    "refund.created": "refund_succeeded",
    "refund.updated": "refund_succeeded",
    "refund.failed": "refund_failed",
    "charge.dispute.created": "dispute_opened",
    "charge.dispute.updated": "dispute_opened",
    "charge.dispute.funds_withdrawn": "dispute_funds_withdrawn",
    "charge.dispute.funds_reinstated": "dispute_funds_reinstated",
    "charge.dispute.closed": "dispute_closed",
    "payout.paid": "payout_paid",
    "payout.failed": "payout_failed",
}
DISPUTE_KINDS = (
    "dispute_opened",
    "dispute_funds_withdrawn",
    "dispute_funds_reinstated",
    "dispute_closed",
)
# Kinds that move money (the others only change a state or a flag).
BOOKED_KINDS = {
    "payment_succeeded",
    "refund_succeeded",
    "dispute_funds_withdrawn",
    "dispute_funds_reinstated",
    "payout_paid",
    "payout_failed",
}

# Payment link sessions (paycrm.link): one row per hosted checkout session.
# "submitted": the payer paid on the hosted page (demo submit, PayPal capture)
# and the gateway's event is on its way; the session takes no second payment.
LINK_SESSION_STATES = [
    ("open", "Open"),
    ("submitted", "Payment Submitted"),
    ("closing", "To Expire"),
    ("paid", "Paid"),
    ("expired", "Expired"),
]
# A session this close to its expiry is not handed out again: the customer
# needs time to fill in the gateway's form.
LINK_REUSE_MARGIN_MINUTES = 15
# Expiring a stale session at the gateway is retried by cron this many times.
LINK_EXPIRE_MAX_TRIES = 8
# Public routes write a bounded amount: new checkout sessions one invoice's
# link may open per hour (each is a gateway call, a row and a chatter line),
# and one chatter note per invoice per this many seconds for failed clicks
# (the others are counted on the invoice).
LINK_MAX_NEW_SESSIONS_PER_HOUR = 10
LINK_FAILURE_NOTE_SECONDS = 3600
LINK_CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("email_sms", "Email and SMS"),
    ("copy", "Copy the link"),
]
