DROP FUNCTION IF EXISTS leadorch_tenants_with_expired_rows(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS leadorch_orphaned_messages(text, text, integer);
DROP INDEX IF EXISTS inbound_messages_received_idx;
DROP INDEX IF EXISTS webhook_receipts_received_idx;
DROP INDEX IF EXISTS messages_unsettled_idx;
