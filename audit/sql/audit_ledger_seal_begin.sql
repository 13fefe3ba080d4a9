-- Starts a seal: takes the ledger's lock (1668247150, audit.ledger.locks.LEDGER_LOCK) or, with p_wait false,
-- tries to, returning nothing if a seal is in progress. With p_session the lock is the session's, so that a seal
-- in autocommit holds it from this statement to audit_ledger_seal_commit; otherwise the transaction's.
--
-- A seal in autocommit releases the ledger's lock inside its sealing transaction, a moment before that commits:
-- the commit lock (1818584167, audit.ledger.locks.COMMIT_LOCK), which it holds until then, makes this wait for
-- the commit. Then, in a new snapshot, the chain's head and the batch (audit_ledger_seal_batch).
--
-- On an error with the session's lock held, the caller releases it (audit.ledger.sealing).
CREATE OR REPLACE FUNCTION audit_ledger_seal_begin(p_wait boolean, p_session boolean, p_limit integer,
                                                   p_skip uuid[])
RETURNS TABLE (head_seq bigint, head_hash text, id uuid, at timestamptz, actor_id bigint, actor_label text,
               action text, target_type text, target_code text, camera_code text, owner_code text,
               incident_code text, case_number text, reason text, detail jsonb, mac text, unit text) AS $$
BEGIN
    IF p_session THEN
        IF p_wait THEN
            PERFORM pg_advisory_lock(1668247150);
        ELSIF NOT pg_try_advisory_lock(1668247150) THEN
            RETURN;  -- a seal is in progress; it looks for pending entries again after unlocking
        END IF;
    ELSIF p_wait THEN
        PERFORM pg_advisory_xact_lock(1668247150);
    ELSIF NOT pg_try_advisory_xact_lock(1668247150) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1818584167);
    RETURN QUERY SELECT * FROM audit_ledger_seal_batch(p_limit, p_skip);
END;
$$ LANGUAGE plpgsql;
