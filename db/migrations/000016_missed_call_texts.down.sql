DROP INDEX IF EXISTS calls_texted_idx;
ALTER TABLE calls DROP COLUMN IF EXISTS texted_at;
