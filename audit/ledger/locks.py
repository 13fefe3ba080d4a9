"""The ledger's advisory locks. The SQL functions in audit/sql/ name the same numbers (a test checks)."""

# Sealing holds it, so two seals never chain to the same entry: for the session in autocommit, for the transaction
# otherwise; the two kinds exclude each other.
LEDGER_LOCK = 0x636F6E6E  # "conn"
# A seal in autocommit holds it from releasing LEDGER_LOCK until its transaction commits; the next seal waits for
# it before reading the chain's head (audit/sql/audit_ledger_seal_begin.sql).
COMMIT_LOCK = 0x6C656467  # "ledg"
PURGE_LOCK = 0x70757267  # "purg": one retention purge at a time
SEALER_LOCK = 0x7365616C  # "seal": held by the sealer process while it runs (audit.ledger.sealer)
PUBLISH_LOCK = 0x70756264  # "pubd": one public checkpoint at a time (audit.publishing)
