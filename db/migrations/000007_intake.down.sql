DROP TABLE IF EXISTS email_event_batches;
ALTER TABLE inbound_messages DROP COLUMN IF EXISTS handled_at;
