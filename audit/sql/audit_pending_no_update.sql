-- A pending entry is never changed: it leaves only by being sealed (audit_pending_sealed_only).
CREATE OR REPLACE FUNCTION audit_pending_no_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'pending access-ledger entries cannot be changed: UPDATE refused on pending entry %', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pendingentry
    FOR EACH ROW EXECUTE FUNCTION audit_pending_no_update();
