-- Sweeps the elected leader runs: outbox rows whose send job is gone, and
-- rows past their retention.

-- Outbox rows not yet settled. A healthy send settles within seconds, so
-- this index stays small, and the orphan sweep reads it instead of every
-- tenant's messages.
CREATE INDEX messages_unsettled_idx ON messages (updated_at) WHERE status IN ('pending', 'sending');

-- The prune deletes by age, tenant by tenant.
CREATE INDEX webhook_receipts_received_idx ON webhook_receipts (tenant_id, received_at);
CREATE INDEX inbound_messages_received_idx ON inbound_messages (tenant_id, received_at);

-- Whether River may still run a send job of kind for_kind whose args name
-- the tenant, lead and step of an outbox row (an operator's resend is one
-- too): such a job will settle the row itself.
--
-- River's only index on args is a GIN (jsonb_ops) one, and measured on
-- 300,000 send jobs a containment test on all three keys at once, or the
-- planner's hash anti join of the unsettled rows against every live job,
-- cost 1-3 s per sweep (the keys' posting lists are huge); looking up the
-- lead's few jobs by lead_id alone, fenced from the other conditions so
-- that no second index is ANDed in, and filtering those, costs about 0.3 ms
-- per row.
-- PL/pgSQL, not SQL: River's tables are created after the app's migrations
-- (in the same `worker migrate`), and a SQL function's body is checked
-- against the tables when it is created.
CREATE FUNCTION leadorch_send_job_live(for_tenant uuid, for_lead uuid, for_step text, for_kind text)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
    RETURN EXISTS (
        WITH lead_jobs AS MATERIALIZED (
            SELECT j.kind, j.args, j.state FROM river_job j
            WHERE j.args @> jsonb_build_object('lead_id', for_lead))
        SELECT 1 FROM lead_jobs
        WHERE lead_jobs.kind = for_kind AND lead_jobs.args->>'tenant_id' = for_tenant::text
        AND lead_jobs.args->>'step' = for_step
        AND lead_jobs.state IN ('available', 'scheduled', 'running', 'retryable', 'pending'));
END
$$;

-- The newest send job of an outbox row, whatever its state, for the
-- reason the sweep writes (an operator finds it in River UI).
CREATE FUNCTION leadorch_last_send_job(for_tenant uuid, for_lead uuid, for_step text, for_kind text)
RETURNS TABLE (job_id bigint, job_state text)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY
    WITH lead_jobs AS MATERIALIZED (
        SELECT j.id, j.kind, j.args, j.state FROM river_job j
        WHERE j.args @> jsonb_build_object('lead_id', for_lead))
    SELECT lead_jobs.id, lead_jobs.state::text FROM lead_jobs
    WHERE lead_jobs.kind = for_kind AND lead_jobs.args->>'tenant_id' = for_tenant::text
    AND lead_jobs.args->>'step' = for_step
    ORDER BY lead_jobs.id DESC LIMIT 1;
END
$$;

-- Finds outbox rows still pending or sending that no live send job will
-- settle: the job was cancelled or deleted (River UI), or discarded.
-- Returns ids only: the sweep settles each row as the application role,
-- under the tenant's policy.
CREATE FUNCTION leadorch_orphaned_messages(sms_job_kind text, email_job_kind text, max_rows integer)
RETURNS TABLE (tenant_id uuid, message_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.tenant_id, m.id FROM messages m
    WHERE m.status IN ('pending', 'sending')
    AND NOT leadorch_send_job_live(m.tenant_id, m.lead_id, m.step,
        CASE m.channel WHEN 'sms' THEN sms_job_kind ELSE email_job_kind END)
    ORDER BY m.updated_at
    LIMIT max_rows
$$;

-- Lists the tenants that hold webhook receipts or inbound messages older
-- than the given times. Returns ids only: the prune deletes as the
-- application role, under each tenant's policy.
CREATE FUNCTION leadorch_tenants_with_expired_rows(receipts_before timestamptz, inbound_before timestamptz)
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.id FROM tenants t
    WHERE EXISTS (SELECT 1 FROM webhook_receipts w WHERE w.tenant_id = t.id AND w.received_at < receipts_before)
       OR EXISTS (SELECT 1 FROM inbound_messages i WHERE i.tenant_id = t.id AND i.received_at < inbound_before)
    ORDER BY t.id
$$;

REVOKE EXECUTE ON FUNCTION leadorch_orphaned_messages(text, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_tenants_with_expired_rows(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_orphaned_messages(text, text, integer) TO leadorch_app;
GRANT EXECUTE ON FUNCTION leadorch_tenants_with_expired_rows(timestamptz, timestamptz) TO leadorch_app;
