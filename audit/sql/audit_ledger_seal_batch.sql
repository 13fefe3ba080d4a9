-- The chain's head and the oldest pending entries not yet sealed: one row per entry, or one row with the head
-- alone when nothing is pending. Called with the ledger's lock held (audit_ledger_seal_begin).
CREATE OR REPLACE FUNCTION audit_ledger_seal_batch(p_limit integer, p_skip uuid[])
RETURNS TABLE (head_seq bigint, head_hash text, id uuid, at timestamptz, actor_id bigint, actor_label text,
               action text, target_type text, target_code text, camera_code text, owner_code text,
               incident_code text, case_number text, reason text, detail jsonb, mac text, unit text) AS $$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL: the plan is kept for the session (a SQL function would be planned anew, generically, each call).
    RETURN QUERY
        WITH head AS (
            (SELECT e.seq, e.entry_hash::text AS hash FROM audit_accessentry e ORDER BY e.seq DESC LIMIT 1)
            UNION ALL
            (SELECT c.upto_seq, c.last_hash::text FROM audit_ledgercheckpoint c ORDER BY c.upto_seq DESC LIMIT 1)
            UNION ALL
            SELECT 0::bigint, repeat('0', 64)
            LIMIT 1
        )
        SELECT h.seq, h.hash, p.id, p.at, p.actor_id, p.actor_label::text, p.action::text, p.target_type::text,
               p.target_code::text, p.camera_code::text, p.owner_code::text, p.incident_code::text,
               p.case_number::text, p.reason, p.detail, p.mac::text, p.unit
        FROM head h LEFT JOIN LATERAL (
            SELECT * FROM audit_pendingentry q
            WHERE q.id <> ALL(coalesce(p_skip, '{}'))  -- rows this seal found without a valid MAC
              -- copies of sealed ones; a probe by pending_id per row (see audit_pending_sealed_only)
              AND (SELECT s.id FROM audit_accessentry s WHERE s.pending_id = q.id LIMIT 1) IS NULL
            ORDER BY q.at, q.id
            LIMIT p_limit
        ) p ON true
        ORDER BY p.at, p.id;
END;
$$ LANGUAGE plpgsql
-- The pending table churns (every row is inserted and deleted within milliseconds): a sequential scan would read
-- all the dead rows autovacuum has not yet removed, where the (at, id) index skips them.
SET enable_seqscan = off;
