-- A neutralized copy of a database must never reach a real gateway.
UPDATE paycrm_gateway
   SET state = 'disabled',
       secret_key = NULL,
       webhook_secret = NULL;
