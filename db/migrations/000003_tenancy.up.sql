-- Real multi-tenancy: per-shop CRM settings, credentials encrypted at rest,
-- and isolation enforced by Postgres itself.

-- Any CRM kind the build registers; the application validates the kind
-- against its registry, so adding a CRM needs no migration.
ALTER TABLE tenants DROP CONSTRAINT tenants_crm_kind_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_crm_kind_check CHECK (crm_kind <> '');

ALTER TABLE tenants
    -- Empty means the CRM's production API.
    ADD COLUMN crm_base_url text NOT NULL DEFAULT '',
    -- Tekmetric's OAuth client id (not a secret); empty for ShopMonkey.
    ADD COLUMN crm_client_id text NOT NULL DEFAULT '',
    -- Requests per minute this shop's CRM calls may make across the whole
    -- fleet; 0 means the CRM kind's default.
    ADD COLUMN crm_rate_limit_per_minute integer NOT NULL DEFAULT 0
        CHECK (crm_rate_limit_per_minute BETWEEN 0 AND 100000),
    -- The CRM secret (ShopMonkey API key, Tekmetric client secret), sealed
    -- with AES-256-GCM under the key named by crm_secret_key_id. The
    -- plaintext never reaches the database: crm_api_key below is only
    -- read by `worker migrate` to seal keys stored before this migration,
    -- and is empty afterwards.
    ADD COLUMN crm_secret_sealed bytea,
    ADD COLUMN crm_secret_key_id text NOT NULL DEFAULT '',
    -- Texts go out only between these local times in the shop's time zone.
    ADD COLUMN quiet_hours_start time NOT NULL DEFAULT '08:00',
    ADD COLUMN quiet_hours_end time NOT NULL DEFAULT '21:00';

-- Each tenant's budget of CRM requests, shared by every replica: a token
-- bucket refilled at the tenant's rate (see store.TakeCRMRequest).
CREATE TABLE crm_rate_limits (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    tokens      double precision NOT NULL,
    refilled_at timestamptz NOT NULL,
    -- How many tokens the last take got (read back by the same statement).
    taken       integer NOT NULL
);

-- A row may refer only to rows of its own tenant. Foreign keys are checked
-- past row-level security, so a plain lead_id reference would let one
-- tenant attach a message to another's lead; these composite keys do not.
ALTER TABLE leads ADD CONSTRAINT leads_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE messages ADD CONSTRAINT messages_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE messages DROP CONSTRAINT messages_lead_id_fkey;
ALTER TABLE messages ADD CONSTRAINT messages_lead_fkey
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE message_events DROP CONSTRAINT message_events_message_id_fkey;
ALTER TABLE message_events ADD CONSTRAINT message_events_message_fkey
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE;

-- The role the application connects as (through a LOGIN role that is a
-- member of it). It owns nothing, so row-level security applies to it and it
-- cannot switch it off. Roles are cluster-wide: another database's migration
-- may have created it already.
-- A migrator without CREATEROLE works when a DBA made the role beforehand.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'leadorch_app') THEN
        BEGIN
            CREATE ROLE leadorch_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO leadorch_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO leadorch_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO leadorch_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO leadorch_app;
-- River's later migrations (run by this same owner) add tables too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO leadorch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO leadorch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO leadorch_app;
-- The migrations' own bookkeeping is the owner's business.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM leadorch_app;

-- Row-level security: a transaction sees the rows of the one tenant it
-- named with set_config('leadorch.tenant_id', id, true) and nothing else.
-- A query that forgot to name one sees no rows at all. The fleet's own
-- execution rows (tenant_id NULL: the poll scheduler) are visible only to a
-- transaction that set leadorch.fleet.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON leads
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE suppressions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON suppressions
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE message_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_events
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE crm_rate_limits ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_rate_limits
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

ALTER TABLE job_executions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_executions
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid
        OR (tenant_id IS NULL AND current_setting('leadorch.fleet', true) = 'on'));

-- The few operations that are fleet-wide by nature run as the owner through
-- these functions, each doing one narrow thing. The application cannot read
-- across tenants any other way.

-- Finds enabled tenants whose poll is due, moves their next poll one
-- interval on (from the previous due time, so schedules do not drift; a
-- tenant more than an interval behind restarts from now) and returns them.
CREATE FUNCTION leadorch_claim_due_polls(due_at timestamptz, max_tenants integer)
RETURNS TABLE (tenant_id uuid, poll_cursor timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH due AS (
        SELECT id FROM tenants
        WHERE enabled AND next_poll_at <= due_at
        ORDER BY next_poll_at
        LIMIT max_tenants
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tenants t SET next_poll_at = CASE
        WHEN t.next_poll_at + make_interval(secs => t.poll_interval_seconds) > due_at
            THEN t.next_poll_at + make_interval(secs => t.poll_interval_seconds)
        ELSE due_at + make_interval(secs => t.poll_interval_seconds) END
    FROM due WHERE t.id = due.id
    RETURNING t.id, t.poll_cursor
$$;

-- Resolves what an operator typed (a tenant's id or its name) to its id.
CREATE FUNCTION leadorch_find_tenant(id_or_name text)
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM tenants WHERE id::text = id_or_name OR name = id_or_name
$$;

-- Lists every tenant's id, by name, for the operator's CLI.
CREATE FUNCTION leadorch_tenant_ids()
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM tenants ORDER BY name
$$;

REVOKE EXECUTE ON FUNCTION leadorch_claim_due_polls(timestamptz, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_find_tenant(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_tenant_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_claim_due_polls(timestamptz, integer) TO leadorch_app;
GRANT EXECUTE ON FUNCTION leadorch_find_tenant(text) TO leadorch_app;
GRANT EXECUTE ON FUNCTION leadorch_tenant_ids() TO leadorch_app;
