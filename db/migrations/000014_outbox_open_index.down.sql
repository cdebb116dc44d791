CREATE OR REPLACE FUNCTION leadorch_fleet_outbox(failed_since timestamptz)
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
DROP INDEX IF EXISTS messages_ambiguous_idx;
CREATE INDEX messages_open_idx ON messages (channel, status) WHERE status IN ('pending', 'sending', 'ambiguous');
