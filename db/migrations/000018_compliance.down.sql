ALTER TABLE tenants DROP COLUMN compliance;
