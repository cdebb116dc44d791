DROP TABLE bookings;
DROP FUNCTION leadorch_booking_link(bytea);
DROP TABLE booking_links;
ALTER TABLE tenants DROP COLUMN booking;
