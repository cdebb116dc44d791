-- Backfills an operator started (`enqueue backfill`): one row each, written
-- in the transaction that inserts its poll_crm jobs, so that `--wait` and
-- `enqueue backfill status` can show how far each one has got. Windows done
-- are not stored here: they are counted from the jobs themselves (river_job
-- rows whose args carry the backfill's id), which is true whatever retried,
-- was cancelled in River UI or was discarded.
CREATE TABLE backfills (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    since          timestamptz NOT NULL,
    until          timestamptz NOT NULL,
    -- The length of each poll_crm job's window (the last may be shorter).
    window_size    interval NOT NULL CHECK (window_size > interval '0'),
    windows_total  integer NOT NULL CHECK (windows_total > 0),
    send_messages  boolean NOT NULL,
    -- Leads the backfill's polls handed to ingest, added by each poll in
    -- the transaction that completes it (so a retry never counts twice).
    -- Not summed from the jobs: River's cleaner deletes completed jobs a
    -- day after they finish, and a lead row does not say which poll found
    -- it (the lead may have come first from a live poll or a webhook).
    leads_found    bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (since < until)
);

-- `backfill status` lists a tenant's backfills newest first.
CREATE INDEX backfills_tenant_idx ON backfills (tenant_id, id DESC);

ALTER TABLE backfills ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON backfills
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON backfills TO leadorch_app;

-- Counting one backfill's jobs by state must not read all of river_job (a
-- million-window backfill is watched every second while live polls and
-- sends churn through the same table). River's only index on args is a GIN
-- one, whose posting lists for a key every job of a backfill shares are as
-- long as the backfill; this partial expression index holds only backfill
-- jobs (live polls and every other kind have no backfill_id) and finds one
-- backfill's rows, with their state, by a btree range.
--
-- A backfill's windows done are its total less its jobs still to run: River's
-- cleaner deletes completed and cancelled jobs after a day and discarded ones
-- after a week, but never a job that has yet to run.
--
-- River's tables are created after the app's migrations in the same
-- `worker migrate` (rivermigrate runs second), so on a fresh database
-- river_job does not exist yet here: store.Migrate calls this function
-- again once River's migrations have run. On a database that already holds
-- many jobs, building the index takes a few seconds for a million rows and
-- blocks job inserts (not reads) meanwhile.
CREATE FUNCTION leadorch_index_river_job()
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    -- Checked here, not by IF NOT EXISTS alone: CREATE INDEX takes its
    -- lock on river_job before it looks for the name, so every later
    -- `worker migrate` (each deploy) waited behind the fleet's open job
    -- transactions and held up job inserts meanwhile.
    IF to_regclass('river_job') IS NOT NULL AND to_regclass('river_job_backfill_idx') IS NULL THEN
        CREATE INDEX IF NOT EXISTS river_job_backfill_idx ON river_job ((args->>'backfill_id'), state)
            WHERE args->>'backfill_id' IS NOT NULL;
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION leadorch_index_river_job() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_index_river_job() FROM leadorch_app;

SELECT leadorch_index_river_job();
