ALTER TABLE tenants DROP COLUMN booking;
