-- Sweeps the elected leader runs: outbox rows whose send job is gone, and
-- rows past their retention.

-- Outbox rows not yet settled. A healthy send settles within seconds, so
-- this index stays small, and the orphan sweep reads it instead of every
-- tenant's messages.
CREATE INDEX messages_unsettled_idx ON messages (updated_at) WHERE status IN ('pending', 'sending');

-- The prune deletes by age, tenant by tenant.
CREATE INDEX webhook_receipts_received_idx ON webhook_receipts (tenant_id, received_at);
CREATE INDEX inbound_messages_received_idx ON inbound_messages (tenant_id, received_at);

-- Finds outbox rows still pending or sending with no live job left to
-- finish them: the send job was cancelled or deleted (River UI), or
-- discarded. A row's job is the send job of its channel's kind whose args
-- name the row's tenant, lead and step (an operator's resend is one too);
-- live means River may still run it. Returns ids only: the sweep settles
-- each row as the application role, under the tenant's policy.
-- PL/pgSQL, not SQL: River's tables are created after the app's migrations
-- (the same `worker migrate`), and a SQL function's body is checked against
-- the tables when it is created.
CREATE FUNCTION leadorch_orphaned_messages(sms_job_kind text, email_job_kind text, max_rows integer)
RETURNS TABLE (tenant_id uuid, message_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT m.tenant_id, m.id FROM messages m
    WHERE m.status IN ('pending', 'sending')
    AND NOT EXISTS (
        SELECT 1 FROM river_job j
        WHERE j.kind = CASE m.channel WHEN 'sms' THEN sms_job_kind ELSE email_job_kind END
        AND j.args @> jsonb_build_object('tenant_id', m.tenant_id, 'lead_id', m.lead_id, 'step', m.step)
        AND j.state IN ('available', 'scheduled', 'running', 'retryable', 'pending'))
    ORDER BY m.updated_at
    LIMIT max_rows;
END
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
