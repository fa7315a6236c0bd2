"""The built-in demo gateway: deterministic answers, no account, no network."""

from .base import GatewayAdapter


class DemoAdapter(GatewayAdapter):
    code = "demo"

    def check_connection(self):
        return "demo gateway (no account needed)"

    def upsert_customer(self, customer, reference=None, idempotency_key=None):
        return reference or f"demo_cus_{customer.partner_id}"
