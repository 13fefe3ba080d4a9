-- Ends a seal: moves a batch from the pending table into the chain in one statement. Only the chain's columns
-- travel (p_seq, p_id, p_prev_hash, p_entry_hash, computed by the server with the ledger's key); the content is
-- copied from the pending rows, which the same statement deletes, and audit_pending_sealed_only checks at its
-- end that each has its identical copy in the chain. A pending row gone since the batch was read (another seal took
-- it, which the ledger's lock should make impossible) is refused with SQLSTATE 40001, as a serialization failure:
-- nothing is written, and the caller leaves the batch to that seal (audit.ledger.sealing). Were the check missed,
-- the row's NULLs would still be refused by the chain: no gap in `seq`.
--
-- With p_session (a seal in autocommit, holding the ledger's lock for its session) it then releases the lock and
-- says whether entries are pending (audit_ledger_seal_end), holding the commit lock (1818584167,
-- audit.ledger.locks.COMMIT_LOCK) until this transaction commits: the next seal reads the head only after that
-- (audit_ledger_seal_begin). Otherwise the lock is the transaction's, and `more` and `own_pending` are NULL.
CREATE OR REPLACE FUNCTION audit_ledger_seal_commit(p_session boolean, p_seq bigint[], p_id uuid[],
                                                    p_prev_hash text[], p_entry_hash text[], p_skip uuid[],
                                                    p_own uuid[], OUT sealed integer, OUT more boolean,
                                                    OUT own_pending boolean) AS $$
BEGIN
    IF p_session THEN
        PERFORM pg_advisory_xact_lock(1818584167);
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_id) AS v(id)
               WHERE NOT EXISTS (SELECT 1 FROM audit_pendingentry p WHERE p.id = v.id)) THEN
        RAISE EXCEPTION 'pending access-ledger entries of this seal''s batch were sealed by another seal meanwhile'
            USING ERRCODE = 'serialization_failure';
    END IF;
    WITH v AS (SELECT * FROM unnest(p_seq, p_id, p_prev_hash, p_entry_hash) AS v(seq, id, prev_hash, entry_hash)),
         taken AS (DELETE FROM audit_pendingentry WHERE id = ANY(p_id))
    INSERT INTO audit_accessentry (seq, at, actor_id, actor_label, action, target_type, target_code, camera_code,
                                   owner_code, incident_code, case_number, reason, detail, prev_hash, entry_hash,
                                   pending_id)
    SELECT v.seq, p.at, p.actor_id, p.actor_label, p.action, p.target_type, p.target_code, p.camera_code,
           p.owner_code, p.incident_code, p.case_number, p.reason,
           CASE WHEN p.unit = '' THEN p.detail ELSE jsonb_build_object('unit', p.unit) || p.detail END,
           v.prev_hash, v.entry_hash, p.id
    FROM v LEFT JOIN audit_pendingentry p ON p.id = v.id
    ORDER BY v.seq;
    GET DIAGNOSTICS sealed = ROW_COUNT;
    IF p_session THEN
        SELECT e.more, e.own_pending INTO more, own_pending FROM audit_ledger_seal_end(p_skip, p_own) e;
    END IF;
END;
$$ LANGUAGE plpgsql
-- The pending table churns: by key, never a scan over its dead rows (see audit_ledger_seal_batch).
SET enable_seqscan = off;
