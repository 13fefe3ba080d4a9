-- Releases the session's ledger lock (1668247150, audit.ledger.locks.LEDGER_LOCK), then says whether entries are
-- pending, and whether any of p_own (the caller's) are. The looks take new snapshots, after the unlock: a writer
-- that failed to take the lock while this seal held it had committed its entry before trying, so it is seen here
-- and the seal goes on (no lost wake-up).
CREATE OR REPLACE FUNCTION audit_ledger_seal_end(p_skip uuid[], p_own uuid[], OUT more boolean,
                                                 OUT own_pending boolean) AS $$
BEGIN
    PERFORM pg_advisory_unlock(1668247150);
    more := EXISTS (SELECT 1 FROM audit_pendingentry q WHERE q.id <> ALL(coalesce(p_skip, '{}'))
                    AND (SELECT s.id FROM audit_accessentry s WHERE s.pending_id = q.id LIMIT 1) IS NULL);
    own_pending := EXISTS (SELECT 1 FROM audit_pendingentry q WHERE q.id = ANY(coalesce(p_own, '{}')));
END;
$$ LANGUAGE plpgsql
SET enable_seqscan = off;
