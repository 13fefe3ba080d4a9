"""The access ledger: the one way to write it, and the checks that it was not tampered with.

    from audit.ledger import Action, record
    record(actor=request.user, action=Action.CLIP_VIEWED, target_type="clip", target_code=clip.code, ...)

audit imports no other app: callers pass plain values. Writing is split in two, so that writers do not queue
behind one another (batch sealing, a group commit):

1. `record()` / `record_many()` insert the entry into the pending table (`PendingEntry`), the same way in the
   caller's transaction or in autocommit, without any lock (audit/ledger/writing.py).
2. Once that transaction has committed (`transaction.on_commit`; in autocommit at once), sealing moves pending
   entries into the hash chain, oldest first, in batches under one lock (audit/ledger/sealing.py). Normally the
   sealer process does it (audit/ledger/sealer.py, `manage.py seal_ledger --follow`) and the writer only inserts;
   without one, the writer seals, or leaves its entries to the seal in progress. A transaction seals once
   however many entries it records.

On an event loop, `GroupCommit` writes concurrent requests' entries in one `record_many()` (one INSERT, one commit),
each request waiting for that commit (audit/ledger/group_commit.py); `record_many_on_loop()` is the same write on the
loop's own psycopg connection, without a thread hop (the staff map's fast route).

If a process dies between the two steps its entries stay pending, and the next seal takes them: the sealer's, the
next writer's, `audit_verify`'s, or the beat task's every minute (`seal`). Chain order (`seq`) is sealing order;
`at` is when `record()` was called. The database guards both tables (audit/sql/): the chain is append-only, and a
pending entry leaves only with its identical copy in the chain.
"""

from audit.actions import Action
from audit.ledger import carrying
from audit.ledger.group_commit import GroupCommit
from audit.ledger.purging import purge
from audit.ledger.sealer import sealer_holds_lock
from audit.ledger.sealing import seal
from audit.ledger.verifying import Backlog, PendingCheck, backlog, pending, verify
from audit.ledger.writing import entry, record, record_many, record_many_on_loop

__all__ = ["Action", "Backlog", "GroupCommit", "PendingCheck", "backlog", "carrying", "entry", "pending", "purge",
           "record", "record_many", "record_many_on_loop", "seal", "sealer_holds_lock", "verify"]
