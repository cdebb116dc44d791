DROP TABLE IF EXISTS lead_first_messages;
ALTER TABLE leads
    DROP COLUMN IF EXISTS found_via,
    DROP COLUMN IF EXISTS opted_out_at,
    DROP COLUMN IF EXISTS booked_at;
