-- A neutralized copy of a database must never reach a real gateway, nor be
-- mistaken for one by a gateway: every credential and endpoint of every
-- gateway (archived ones too) is cleared, every gateway disabled, and the
-- last connection check forgotten (it described the production account).
UPDATE paycrm_gateway
   SET state = 'disabled',
       secret_key = NULL,
       publishable_key = NULL,
       webhook_secret = NULL,
       paypal_client_id = NULL,
       paypal_webhook_id = NULL,
       webhook_endpoint_id = NULL,
       webhook_check_state = NULL,
       webhook_check_message = NULL,
       api_base_url = NULL,
       connection_state = 'unknown',
       connection_message = NULL,
       connection_checked_at = NULL;
