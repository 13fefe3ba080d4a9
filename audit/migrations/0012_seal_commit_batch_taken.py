"""audit_ledger_seal_commit refuses a batch whose pending entries another seal took meanwhile with a serialization
failure (SQLSTATE 40001) that names it, before writing anything, instead of the chain's NOT NULL error: the seal then
leaves that batch to the other seal and carries on (audit.ledger.sealing), where the ledger's sealer process used to
take the error for a lost database and hand its role to the stand-by.

Reverse: keeps this definition, which code from before this migration also works with."""

from django.db import migrations

from audit.ledger.sql import LoadSQL


class Migration(migrations.Migration):
    dependencies = [("audit", "0011_settings_permission")]

    operations = [
        LoadSQL({"audit_ledger_seal_commit": "8537936dabbcb94c9b1aff97678df63d885f0196e3289be5a2222fd99274bcc1"},
                reverse_sql=migrations.RunSQL.noop),
    ]
