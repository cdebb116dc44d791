DROP FUNCTION IF EXISTS leadorch_claim_due_polls(timestamptz, integer);
DROP FUNCTION IF EXISTS leadorch_find_tenant(text);
DROP FUNCTION IF EXISTS leadorch_tenant_ids();

DROP TABLE IF EXISTS crm_rate_limits;
DROP POLICY IF EXISTS tenant_isolation ON job_executions;
DROP POLICY IF EXISTS tenant_isolation ON message_events;
DROP POLICY IF EXISTS tenant_isolation ON suppressions;
DROP POLICY IF EXISTS tenant_isolation ON messages;
DROP POLICY IF EXISTS tenant_isolation ON leads;
DROP POLICY IF EXISTS tenant_isolation ON tenants;
ALTER TABLE job_executions DISABLE ROW LEVEL SECURITY;
ALTER TABLE message_events DISABLE ROW LEVEL SECURITY;
ALTER TABLE suppressions DISABLE ROW LEVEL SECURITY;
ALTER TABLE messages DISABLE ROW LEVEL SECURITY;
ALTER TABLE leads DISABLE ROW LEVEL SECURITY;
ALTER TABLE tenants DISABLE ROW LEVEL SECURITY;

-- The role is cluster-wide and may serve other databases: its grants here
-- go, the role stays.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM leadorch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM leadorch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM leadorch_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM leadorch_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM leadorch_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM leadorch_app;
REVOKE ALL ON SCHEMA public FROM leadorch_app;

ALTER TABLE message_events DROP CONSTRAINT message_events_message_fkey;
ALTER TABLE message_events ADD CONSTRAINT message_events_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE;
ALTER TABLE messages DROP CONSTRAINT messages_lead_fkey;
ALTER TABLE messages ADD CONSTRAINT messages_lead_id_fkey
    FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_id_key;
ALTER TABLE leads DROP CONSTRAINT leads_tenant_id_id_key;

-- Sealed secrets cannot be unsealed in SQL: tenants need their CRM secret
-- set again after a downgrade.
ALTER TABLE tenants
    DROP COLUMN IF EXISTS crm_base_url,
    DROP COLUMN IF EXISTS crm_client_id,
    DROP COLUMN IF EXISTS crm_rate_limit_per_minute,
    DROP COLUMN IF EXISTS crm_secret_sealed,
    DROP COLUMN IF EXISTS crm_secret_key_id,
    DROP COLUMN IF EXISTS quiet_hours_start,
    DROP COLUMN IF EXISTS quiet_hours_end;
ALTER TABLE tenants DROP CONSTRAINT tenants_crm_kind_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_crm_kind_check CHECK (crm_kind IN ('shopmonkey'));
