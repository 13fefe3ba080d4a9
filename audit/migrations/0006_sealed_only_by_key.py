"""The pending table's DELETE check (0004) finds each entry's copy in the chain by pending_id, whatever the
statistics say.

The check's subquery named every column, so the planner was free to pick any index matching one of them. A
writer's session plans it once (PL/pgSQL keeps the plan) and, planned while the ledger was small, chose the index
on `action`: each probe then read every entry of that action. With tens of thousands of entries each sealing
statement took seconds of CPU, with the ledger's lock held, until an ANALYZE replaced the plan (bench/ledger.py,
BENCHMARKS section 12, the "stalls without the sealer"). Now the lookup by pending_id is fenced (OFFSET 0: planned
on its own, it can only be the unique index) and only then compared, and the function never plans a scan.
"""

from django.db import migrations

SEALED_ONLY = """
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
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION audit_pending_sealed_only() RETURNS trigger AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT o.id INTO v_id FROM gone o
    WHERE (SELECT e.id FROM audit_accessentry e
           WHERE e.pending_id = o.id AND e.at = o.at AND e.actor_id IS NOT DISTINCT FROM o.actor_id
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
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):

    dependencies = [("audit", "0005_roles")]

    operations = [migrations.RunSQL(SEALED_ONLY, PREVIOUS)]
