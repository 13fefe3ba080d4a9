-- TRUNCATE skips row triggers, so the ledger and its pending entries get a statement trigger of their own. Test
-- databases (Django names them test_*) are exempt: the test runner empties every table with TRUNCATE between
-- tests.
CREATE OR REPLACE FUNCTION audit_ledger_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_database() LIKE 'test\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the access ledger is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER audit_ledger_no_truncate BEFORE TRUNCATE ON audit_accessentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_no_truncate();

CREATE OR REPLACE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pendingentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_no_truncate();
