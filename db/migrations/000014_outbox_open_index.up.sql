-- Migration 13's messages_open_idx held every pending, sending and
-- ambiguous outbox row so that /metrics could count them. Every message
-- enters it twice on its way out (the insert as pending, the claim as
-- sending): two index writes per message on the hottest path, for a count
-- read once per metrics.database_stats_interval. Pending and sending rows
-- are already in migration 8's messages_unsettled_idx, which the sweeper
-- keeps anyway; ambiguous rows (an operator's problem, rare) get an index
-- of their own, written only when a send becomes ambiguous.
DROP INDEX messages_open_idx;
CREATE INDEX messages_ambiguous_idx ON messages (channel) WHERE status = 'ambiguous';

-- The same rows and counts as migration 13's function; each branch's
-- WHERE is its partial index's predicate, so each reads only its index's
-- rows, never the sent ones.
CREATE OR REPLACE FUNCTION leadorch_fleet_outbox(failed_since timestamptz)
RETURNS TABLE (channel text, status text, messages bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.channel, m.status, count(*) FROM messages m
    WHERE m.status IN ('pending', 'sending')
    GROUP BY m.channel, m.status
    UNION ALL
    SELECT m.channel, 'ambiguous', count(*) FROM messages m
    WHERE m.status = 'ambiguous'
    GROUP BY m.channel
    UNION ALL
    SELECT m.channel, 'failed', count(*) FROM messages m
    WHERE m.status = 'failed' AND m.updated_at >= failed_since
    GROUP BY m.channel
$$;
