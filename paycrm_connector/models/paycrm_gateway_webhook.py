"""Register the gateway's webhook endpoint from Odoo, and check it: the URL
and the event types the connector needs, compared with what the gateway has."""

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..gateways import GatewayError, webhook_differences
from .paycrm_gateway_sync import MANAGER


class PaycrmGateway(models.Model):
    _inherit = "paycrm.gateway"  # pylint: disable=consider-merging-classes-inherited

    webhooks_registrable = fields.Boolean(compute="_compute_webhooks_registrable")
    webhook_endpoint_id = fields.Char(
        string="Webhook Endpoint ID",
        copy=False,
        groups="paycrm_connector.group_paycrm_manager",
        help="The gateway's id of the endpoint registered from Odoo (Stripe: "
        "we_..., PayPal: the webhook id).",
    )
    webhook_check_state = fields.Selection(
        [
            ("ok", "Registered as needed"),
            ("differs", "Differs from what is needed"),
            ("missing", "Not registered"),
            ("error", "Could not check"),
        ],
        string="Webhook Endpoint",
        readonly=True,
        copy=False,
    )
    webhook_check_message = fields.Text(readonly=True, copy=False)
    webhook_checked_at = fields.Datetime(readonly=True, copy=False)

    def _compute_webhooks_registrable(self):
        for gateway in self:
            gateway.webhooks_registrable = bool(
                gateway.provider
            ) and gateway._paycrm_can("registers_webhooks")

    def _paycrm_endpoint_id(self):
        """The endpoint we registered, or the webhook id pasted by hand."""
        gateway = self.sudo()
        config = gateway._paycrm_config()
        return gateway.webhook_endpoint_id or config.extra.get("webhook_id") or ""

    def _paycrm_webhook_gateway(self):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise UserError(
                _("Only connector administrators can register or check webhooks.")
            )
        self._paycrm_check_manager()
        if not self.webhooks_registrable:
            raise UserError(
                _(
                    "%(gateway)s has no API to register webhooks: set the endpoint "
                    "up by hand.",
                    gateway=self.display_name,
                )
            )
        return self.sudo()

    def action_paycrm_register_webhook(self):
        """Create (or update) the endpoint with exactly the event types the
        connector handles, and keep what verifying its events needs."""
        gateway = self._paycrm_webhook_gateway()
        adapter = gateway._paycrm_adapter()
        try:
            endpoint = adapter.register_webhook(
                gateway.webhook_url, gateway._paycrm_endpoint_id()
            )
        except GatewayError as exc:
            raise UserError(
                _("The gateway did not register the endpoint: %(error)s", error=exc)
            ) from exc
        vals = {"webhook_endpoint_id": endpoint.endpoint_id}
        if endpoint.secret:
            vals["webhook_secret"] = endpoint.secret
        # PayPal verifies each event against the id of the webhook it came to.
        webhook_id_field = adapter.config_fields.get("webhook_id")
        if webhook_id_field:
            vals[webhook_id_field] = endpoint.endpoint_id
        gateway.write(vals)
        gateway.message_post(
            body=_(
                "Webhook endpoint %(endpoint)s registered for %(url)s with "
                "%(count)s event types.",
                endpoint=endpoint.endpoint_id,
                url=endpoint.url,
                count=len(endpoint.event_types),
            )
        )
        return self.action_paycrm_check_webhook()

    def action_paycrm_check_webhook(self):
        """Compare the registered endpoint with what the connector needs and
        say what differs."""
        gateway = self._paycrm_webhook_gateway()
        adapter = gateway._paycrm_adapter()
        try:
            endpoint = adapter.find_webhook(
                gateway.webhook_url, gateway._paycrm_endpoint_id()
            )
        except GatewayError as exc:
            state, message = (
                "error",
                _("The gateway could not be asked: %(error)s", error=exc),
            )
        else:
            differences = webhook_differences(
                endpoint, gateway.webhook_url, adapter.webhook_event_types()
            )
            if endpoint is None:
                state = "missing"
            else:
                state = "differs" if differences else "ok"
            message = "\n".join(str(line) for line in differences) or _(
                "Endpoint %(endpoint)s sends the %(count)s event types the "
                "connector handles to %(url)s.",
                endpoint=endpoint.endpoint_id,
                count=len(adapter.webhook_event_types()),
                url=endpoint.url,
            )
        gateway.write(
            {
                "webhook_check_state": state,
                "webhook_check_message": message,
                "webhook_checked_at": fields.Datetime.now(),
            }
        )
        return self._paycrm_notification(
            _("Webhook endpoint of %(gateway)s", gateway=self.display_name),
            message,
            "success" if state == "ok" else "warning",
        )
