DROP TABLE IF EXISTS refused_records;
ALTER TABLE tenants
    DROP COLUMN IF EXISTS needs_attention,
    DROP COLUMN IF EXISTS attention_reason,
    DROP COLUMN IF EXISTS attention_since;
