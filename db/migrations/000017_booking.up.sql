-- Issue 13: booking from the text. The shop's booking settings
-- (lead.BookingSettings as JSON; '{}' is booking switched off).
ALTER TABLE tenants ADD COLUMN booking jsonb NOT NULL DEFAULT '{}'::jsonb;
