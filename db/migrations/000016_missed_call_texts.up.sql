-- Issue 12: a missed call's caller gets at most one text per number per
-- 24 hours. texted_at is when handle_missed_call queued the text for this
-- call, written under the customer's number lock in the transaction that
-- inserted the send, so the next missed call from the number (even one
-- handled at the same moment) sees it. handled_at alone cannot say it:
-- a call handled without a text (within the 24 hours of another) must not
-- restart the 24 hours.
ALTER TABLE calls ADD COLUMN texted_at timestamptz;
CREATE INDEX calls_texted_idx ON calls (tenant_id, from_number, texted_at) WHERE texted_at IS NOT NULL;
