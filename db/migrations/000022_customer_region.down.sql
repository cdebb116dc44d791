ALTER TABLE leads DROP COLUMN customer_region;
