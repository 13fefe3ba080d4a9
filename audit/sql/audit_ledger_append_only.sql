-- The ledger refuses UPDATE and DELETE in the database itself, whoever connects. The retention purge alone
-- may delete, inside a transaction that sets connect.ledger_purge, and only entries older than the retention
-- period it also sets (never less than 365 days).
CREATE OR REPLACE FUNCTION audit_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('connect.ledger_purge', true) = 'on'
       AND OLD.at < now() - make_interval(days => GREATEST(365,
                                          coalesce(current_setting('connect.ledger_keep_days', true), '365')::int))
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access ledger is append-only: % refused on entry %', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER audit_ledger_append_only
    BEFORE UPDATE OR DELETE ON audit_accessentry
    FOR EACH ROW EXECUTE FUNCTION audit_ledger_append_only();
