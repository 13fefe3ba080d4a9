-- A DELETE of pending entries stands only if, by the end of the statement, the chain holds an identical copy of
-- each, naming it (pending_id). Sealing is the only writer that does that: anything else would have to add a chain
-- entry without the server's key, which audit_verify names.
--
-- Each copy is found by pending_id alone, fenced (OFFSET 0: planned on its own, it can only be the unique index),
-- and only then compared: a session keeps its PL/pgSQL plan, and one planned on a small ledger once probed the
-- chain by `action` and read every entry of that action per sealed entry (migration 0006).
CREATE OR REPLACE FUNCTION audit_pending_sealed_only() RETURNS trigger AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT o.id INTO v_id FROM gone o
    WHERE (SELECT e.id FROM (SELECT * FROM audit_accessentry s WHERE s.pending_id = o.id OFFSET 0) e
           WHERE e.at = o.at AND e.actor_id IS NOT DISTINCT FROM o.actor_id
             AND e.actor_label = o.actor_label AND e.action = o.action AND e.target_type = o.target_type
             AND e.target_code = o.target_code AND e.camera_code = o.camera_code AND e.owner_code = o.owner_code
             AND e.incident_code = o.incident_code AND e.case_number = o.case_number AND e.reason = o.reason
             AND e.detail = CASE WHEN o.unit = '' THEN o.detail
                                 ELSE jsonb_build_object('unit', o.unit) || o.detail END
           LIMIT 1) IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pending access-ledger entries leave only by being sealed into the chain: DELETE refused '
                        'on pending entry %', v_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
SET enable_seqscan = off;

-- AFTER, for the statement: it runs at the statement's end, so it sees the chain entries the sealing statement
-- inserts, and checks a whole batch in one query.
CREATE OR REPLACE TRIGGER audit_pending_sealed_only AFTER DELETE ON audit_pendingentry
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_sealed_only();
