"""The ledger's functions and triggers from audit/sql/, one file each (audit.ledger.sql.LoadSQL): from here on a
function has one current definition, its file, instead of statements spread over migrations 0002 to 0006.

New in the files: sealing is one statement per round trip. audit_ledger_seal_commit moves a batch into the chain,
releases the ledger's lock and says whether entries are pending, in one statement; the commit lock it holds until
it commits makes the next audit_ledger_seal_begin wait for that commit before it reads the chain's head.

Reverse: drops audit_ledger_seal_commit; the other functions keep these definitions, which code from before this
migration also works with (it never takes the commit lock)."""

from django.db import migrations

from audit.ledger.sql import LoadSQL


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_map_viewport_boxes")]

    operations = [
        LoadSQL(
            {
                "audit_ledger_append_only": "8d1e8e6eaa24fccf991de4e0f999b27f5a6b11663b47a5da60e3cad10994f37c",
                "audit_ledger_no_truncate": "6a8262f03ddff3f9b45903b9f75e0a9480f16a029d64537220d86444bf9c90b4",
                "audit_pending_no_update": "ea84bd003e07630e3f7a71d2f710e973206a95fb420b7a85c82650392fbc1ac6",
                "audit_pending_sealed_only": "ee443eb21a6bba29c03d7ba1b5d1ae8064a9f17f6562d53d945beff80fd0189b",
                "audit_actor_unit": "fd67a1e110edb43097484f22825beb16fdffb4d1649415c1479475a94d286718",
                "audit_ledger_seal_batch": "1eb7721d53a84c1aa53988526a103efee1d685fcbebe6eb30e3916d90731ce6c",
                "audit_ledger_seal_end": "7e257cac5b849a2dbd78f992b710b5ab0a43aadd1ac058b926e43a8ab33e052e",
                "audit_ledger_seal_begin": "8c61434af9d75964b3c60206437e2c17c78f66ea77ac64292a0f858a3c41015b",
                "audit_ledger_seal_commit": "72aded49865807dfd109792d8291046a36e522cf02bacbf7ceac96048a3e1504",
            },
            reverse_sql="DROP FUNCTION IF EXISTS audit_ledger_seal_commit(boolean, bigint[], uuid[], text[], text[], "
                        "uuid[], uuid[]);",
        ),
    ]
