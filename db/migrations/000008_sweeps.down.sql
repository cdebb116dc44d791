DROP FUNCTION IF EXISTS leadorch_tenants_with_expired_rows(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS leadorch_orphaned_messages(text, text, integer);
DROP FUNCTION IF EXISTS leadorch_last_send_job(uuid, uuid, text, text);
DROP FUNCTION IF EXISTS leadorch_send_job_live(uuid, uuid, text, text);
DROP INDEX IF EXISTS inbound_messages_received_idx;
DROP INDEX IF EXISTS webhook_receipts_received_idx;
DROP INDEX IF EXISTS messages_unsettled_idx;
