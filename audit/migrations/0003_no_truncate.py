from django.db import migrations

# TRUNCATE skips row triggers, so it gets its own. Test databases (Django names them test_*) are exempt:
# the test runner empties every table with TRUNCATE between tests.
FORWARD = """
CREATE OR REPLACE FUNCTION audit_ledger_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_database() LIKE 'test\\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the access ledger is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_ledger_no_truncate BEFORE TRUNCATE ON audit_accessentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_no_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_ledger_no_truncate ON audit_accessentry;
DROP FUNCTION IF EXISTS audit_ledger_no_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
