-- The fleet-wide figures /metrics exports (internal/store/fleet_stats.go):
-- read at scrape time by every replica, at most once per
-- metrics.database_stats_interval. The worker's role is under row-level
-- security and sees no tenant's rows outside a tenant's transaction, so the
-- cross-tenant counts are SECURITY DEFINER functions that return counts
-- and CRM kinds only: never a phone, an address or a body. River's own
-- tables have no RLS; the queue figures read river_job directly.

-- Outbox rows now pending, sending or ambiguous are few (each one is work
-- in flight or an operator's problem) among millions sent: this partial
-- index holds only them, so counting them never reads the sent ones.
CREATE INDEX messages_open_idx ON messages (channel, status) WHERE status IN ('pending', 'sending', 'ambiguous');
-- Failed rows are counted over the last 24 hours.
CREATE INDEX messages_failed_idx ON messages (updated_at) WHERE status = 'failed';
-- The latest live poll of each tenant, among every run of every job.
CREATE INDEX job_executions_live_poll_idx ON job_executions (tenant_id, started_at DESC)
    WHERE kind = 'poll_crm' AND queue = 'crm';
-- The last completed round of the poll scheduler.
CREATE INDEX job_executions_schedule_polls_idx ON job_executions (finished_at)
    WHERE kind = 'schedule_polls' AND outcome = 'completed';

-- Outbox messages by channel and status: rows now pending, sending or
-- ambiguous, and rows that failed since failed_since.
CREATE FUNCTION leadorch_fleet_outbox(failed_since timestamptz)
RETURNS TABLE (channel text, status text, messages bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.channel, m.status, count(*) FROM messages m
    WHERE m.status IN ('pending', 'sending', 'ambiguous')
    GROUP BY m.channel, m.status
    UNION ALL
    SELECT m.channel, 'failed', count(*) FROM messages m
    WHERE m.status = 'failed' AND m.updated_at >= failed_since
    GROUP BY m.channel
$$;

-- One row per tenant: its CRM, whether it is enabled, how far its polled
-- window ends behind now, whether its latest live poll failed, and why it
-- needs an operator (CRM credentials rejected; messages left ambiguous).
-- Tenants are in the thousands at most; each one's latest poll and its
-- ambiguous messages are single index probes.
CREATE FUNCTION leadorch_fleet_tenants(as_of timestamptz)
RETURNS TABLE (tenant_id uuid, crm_kind text, enabled boolean, poll_lag_seconds double precision,
               poll_failing boolean, credentials_rejected boolean, ambiguous_messages boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.id, t.crm_kind, t.enabled,
        greatest(EXTRACT(EPOCH FROM as_of - t.poll_cursor), 0)::double precision,
        coalesce((SELECT e.outcome IN ('error', 'panic', 'timeout', 'cancelled', 'abandoned')
                  FROM job_executions e
                  WHERE e.tenant_id = t.id AND e.kind = 'poll_crm' AND e.queue = 'crm'
                  ORDER BY e.started_at DESC LIMIT 1), false),
        t.needs_attention,
        EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = t.id AND m.status = 'ambiguous')
    FROM tenants t
$$;

-- When schedule_polls last completed on any replica; NULL when it never has.
CREATE FUNCTION leadorch_last_poll_schedule()
RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT max(finished_at) FROM job_executions WHERE kind = 'schedule_polls' AND outcome = 'completed'
$$;

REVOKE EXECUTE ON FUNCTION leadorch_fleet_outbox(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION leadorch_last_poll_schedule() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_fleet_outbox(timestamptz) TO leadorch_app;
GRANT EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) TO leadorch_app;
GRANT EXECUTE ON FUNCTION leadorch_last_poll_schedule() TO leadorch_app;
