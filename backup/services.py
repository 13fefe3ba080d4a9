"""Backup sets: the database, the evidence files and the key inventory together, with a signed manifest; and
restoring one, refused before anything changes if it cannot be restored whole.

What a set does not hold, on purpose: the master keys (they live in the key service or the deployment's
secrets, backed up apart) and the clips' shred keys (the key store, backed up apart with a short retention).
That is what keeps a clip shredded after a backup unreadable once that backup is restored (docs/BACKUPS.md).
"""

import logging
import shutil
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from audit.actions import Action
from audit.ledger import carrying, record, seal, verify
from backup import database, evidence
from backup.manifest import BackupRefused, Manifest, file_part, parts_check, read, write
from common import key_service, key_store
from requests_app import evidence_keys
from requests_app.models import Clip

logger = logging.getLogger(__name__)

PARTIAL = ".partial"


def _connect_version() -> str:
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["version"]


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _key_inventory() -> dict:
    alive = Clip.objects.filter(purged_at__isnull=True, wrapped_key__isnull=False)
    return {"key_service": settings.KEY_SERVICE, "current_master_key_id": key_service.current_key_id(),
            "master_key_ids": sorted(set(alive.values_list("master_key_id", flat=True))),
            "clips_alive": alive.count()}


def _postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


@dataclass
class BackupResult:
    folder: Path
    manifest: Manifest


def backup_create(*, destination: Path) -> BackupResult:
    """Writes a backup set into a new folder under `destination`. The set appears under its final name only once
    whole; a failure removes what was written and is recorded."""
    stamp = datetime.now(UTC)
    name = f"connect-backup-{stamp:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:6]}"
    final = Path(destination) / name
    partial = Path(destination) / (name + PARTIAL)
    seal()  # pending entries into the chain, so the head below is the whole story up to now
    try:
        partial.mkdir(parents=True, mode=0o700)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # One snapshot for the dump and the facts the manifest states about it.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            head = carrying.head()
            migrations = _applied_migrations()
            keys = _key_inventory()
            database.dump(partial / database.DUMP, snapshot=snapshot)
        parts = {database.DUMP: file_part(partial / database.DUMP)}
        parts.update(evidence.evidence_export(partial / evidence.FOLDER))
        manifest = Manifest(created_at=stamp.isoformat(), connect_version=_connect_version(),
                            django_version=django.get_version(), postgres_version=_postgres_version(),
                            migrations=migrations, ledger_head={"seq": head.seq, "hash": head.hash}, keys=keys,
                            parts=parts)
        write(partial, manifest)
        evidence.durable(partial)  # the set is whole on disk before it takes its final name
        partial.rename(final)
        evidence.durable(Path(destination))
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, Exception):
            _recorded_quietly(Action.BACKUP_CREATED, name, f"failed: {exc}", ok=False)
        raise
    record(actor=None, action=Action.BACKUP_CREATED, target_type="backup", target_code=name, ok=True,
           ledger_head=head.seq, parts=len(parts), clips=keys["clips_alive"])
    return BackupResult(final, manifest)


def _recorded_quietly(action: Action, name: str, reason: str, **detail) -> None:
    """Records a failure in the ledger; a database too broken to record in (often why a restore runs) must not
    hide the failure itself."""
    try:
        record(actor=None, action=action, target_type="backup", target_code=name, reason=reason, **detail)
    except Exception as exc:
        logger.warning("%s: %s; and it could not be recorded in the ledger: %s", action, reason, exc)


# --- restore ----------------------------------------------------------------------------------------------------

def _unknown_migrations(manifest: Manifest) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, names in manifest.migrations.items() for name in names
            if (app, name) not in known]


def _missing_migrations(manifest: Manifest) -> bool:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = {(app, name) for app, names in manifest.migrations.items() for name in names}
    return bool(known - applied)


def restore_check(folder: Path, *, hash_evidence: bool = True) -> Manifest:
    """Everything that can be checked before a byte changes; BackupRefused with the reason otherwise. Without
    `hash_evidence`, evidence files are checked for presence and size only: backup_restore hashes them as it
    stages them, still before anything changes, so each is read once."""
    manifest = read(folder)
    newer = _unknown_migrations(manifest)
    if newer:
        raise BackupRefused(
            f"the backup is from a newer schema than this code (connect {manifest.connect_version}; migrations "
            f"this code does not have: {', '.join(newer[:5])}{' …' if len(newer) > 5 else ''}). Restore it with "
            "that version of connect or a later one.")
    parts_check(folder, manifest,
                hash_unless=None if hash_evidence else lambda name: name.startswith(f"{evidence.FOLDER}/"))
    if database.DUMP not in manifest.parts:
        raise BackupRefused(f"the backup set has no {database.DUMP} in its manifest")
    missing = key_service.missing_master_keys(manifest.keys.get("master_key_ids", []))
    if missing:
        raise BackupRefused(
            f"the clips in this backup are wrapped by master key(s) {', '.join(missing)}, which are not configured "
            "here: set CONNECT_EVIDENCE_KEY / CONNECT_EVIDENCE_PREVIOUS_KEYS (or CONNECT_KMS_KEY_ID / "
            "CONNECT_KMS_PREVIOUS_KEY_IDS) to the keys of that time")
    try:
        key_service.check()
    except key_service.KeyServiceError as exc:
        raise BackupRefused(f"the key service cannot be used now: {exc}") from None
    if manifest.keys.get("clips_alive") and not key_store.root().is_dir():
        raise BackupRefused(
            f"the key store ({key_store.root()}) is missing, and the backup's clips need their shred keys: mount "
            "CONNECT_KEY_STORE_DIR, or restore it from its own backup first (docs/BACKUPS.md)")
    return manifest


@dataclass
class RestoreResult:
    manifest: Manifest
    evidence_files: int
    carried_entries: int
    ledger_carried: bool
    clips_destroyed: int
    migrated: bool
    ledger_entries_verified: int


def _refused(folder: Path, reason: str) -> None:
    _recorded_quietly(Action.BACKUP_RESTORE_REFUSED, folder.name, reason)


def _live_ledger_tail(manifest: Manifest) -> tuple[bool, list[dict]]:
    """(whether the live ledger continues the backup's chain, the entries to carry over)."""
    head = carrying.Head(manifest.ledger_head["seq"], manifest.ledger_head["hash"])
    try:
        seal()
        if not carrying.holds(head):
            return False, []
        return True, carrying.entries_after(head)
    except Exception as exc:  # the live database may be why the restore runs
        logger.warning("the live ledger cannot be read; entries after the backup are not carried: %s", exc)
        return False, []


def backup_restore(*, folder: Path) -> RestoreResult:
    """Restores a backup set over connect's database and evidence store (the configured one: a folder or a bucket).
    The other processes (web, worker, beat, sealer) must be stopped. Refused, with nothing changed, for a set that
    fails restore_check; the database is replaced in one transaction; evidence files are staged and checked before
    any is moved in (EvidenceCopyFailed, recorded, if the store fails while they go in: run it again)."""
    folder = Path(folder)
    try:
        manifest = restore_check(folder, hash_evidence=False)
        names = [name.removeprefix(f"{evidence.FOLDER}/") for name in manifest.parts
                 if name.startswith(f"{evidence.FOLDER}/")]
        staging = evidence.evidence_stage(folder / evidence.FOLDER, names, manifest.parts)
    except BackupRefused as exc:
        _refused(folder, str(exc))
        raise
    try:
        carried, tail = _live_ledger_tail(manifest)
        connections.close_all()
        database.restore(folder / database.DUMP)
    except BaseException as exc:
        evidence.evidence_unstage(staging)
        if isinstance(exc, database.DatabaseToolError):
            _refused(folder, f"pg_restore failed, the database is unchanged: {exc}")
        raise
    connections.close_all()  # the tables were replaced under any connection the pool holds
    try:
        moved = evidence.evidence_import(staging)
    except evidence.EvidenceCopyFailed as exc:
        _recorded_quietly(Action.BACKUP_RESTORED, folder.name, f"the database was restored but not all evidence: "
                          f"{exc}", ok=False)
        raise
    migrated = _missing_migrations(manifest)
    if migrated:  # first: the carried entries are rows of the code's own schema (no migration writes the ledger)
        call_command("migrate", interactive=False, verbosity=0)
    appended = carrying.entries_append(tail) if tail else 0
    destroyed = evidence_keys.clips_destroyed_reconcile()
    evidence_keys.shred_keys_sweep()
    record(actor=None, action=Action.BACKUP_RESTORED, target_type="backup", target_code=folder.name,
           backup_created_at=manifest.created_at, ledger_head=manifest.ledger_head["seq"], carried=appended,
           ledger_carried=carried, evidence_files=moved, clips_destroyed=destroyed, migrated=migrated)
    seal()
    result = verify()
    if not result.ok:
        raise RuntimeError(f"the restored ledger does not verify: {result.problem}")
    return RestoreResult(manifest, moved, appended, carried, destroyed, migrated, result.checked)
