DROP TABLE IF EXISTS webhook_receipts;
DROP TABLE IF EXISTS inbound_messages;
DROP INDEX IF EXISTS leads_tenant_phone_idx;
ALTER TABLE leads DROP COLUMN IF EXISTS replied_at;
ALTER TABLE messages
    DROP COLUMN IF EXISTS delivery_status,
    DROP COLUMN IF EXISTS delivery_error_code;
ALTER TABLE tenants
    DROP COLUMN IF EXISTS quiet_rule,
    DROP COLUMN IF EXISTS sequence,
    DROP COLUMN IF EXISTS first_reply_needs_consent,
    DROP COLUMN IF EXISTS notify_email,
    DROP COLUMN IF EXISTS help_text,
    DROP COLUMN IF EXISTS webhook_secret_sealed,
    DROP COLUMN IF EXISTS webhook_secret_key_id,
    DROP COLUMN IF EXISTS webhook_token_sha256;
