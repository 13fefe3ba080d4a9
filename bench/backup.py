"""Backup and restore: `manage.py backup` / `restore` against the bare tools an operator would otherwise run.

    .venv/bin/python bench/backup.py --quick   # 1,000 clips of 64 KiB (under a minute)
    .venv/bin/python bench/backup.py           # 5,000 clips of 256 KiB (1.25 GiB of evidence)

Its own database (connect_bench_backup, made and dropped here only) gets N clips on 1 incident in 50, each with a
sealed-size file of random bytes in a temporary CONNECT_EVIDENCE_DIR and a shred key in a temporary key store.

Timed, each once, in this order on the same data:
- bare backup: `pg_dump --format=custom` and a copy of the evidence folder (shutil.copytree: one read, one write
  per file, no hashing): the least an operator can do;
- connect's backup: backup_create (the same dump from an exported snapshot, every file copied and hashed and
  fsynced, a signed manifest, two ledger entries);
- bare restore: `pg_restore --clean --single-transaction` (PostGIS left in place, as connect does) and a copy back;
- connect's restore: backup_restore (manifest and every part hashed, every file staged and hashed again, the live
  ledger carried over, pg_restore, files renamed in, reconcile of shredded clips, ledger verified).

The last line is one JSON object: the four times, the ratios connect / bare, and the machine.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, single_run_guard  # noqa: E402

NAME = "backup"
DB_NAME = "connect_bench_backup"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/4"  # parsed by the settings; claimed, never used
log = _data.log


def setup_django(evidence: Path, keys: Path) -> None:
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, NAME)  # only a database a benchmark made is dropped
    os.environ.update({"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
                       "CONNECT_EVIDENCE_DIR": str(evidence), "CONNECT_KEY_STORE_DIR": str(keys),
                       "CONNECT_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "connect.settings"})
    if str(_data.ROOT) not in sys.path:
        sys.path.insert(0, str(_data.ROOT))
    os.chdir(_data.ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_clips(n: int, file_bytes: int, evidence: Path) -> None:
    from datetime import timedelta

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from common import key_store
    from common.sealed import current_key_id
    from requests_app.models import Clip, Incident

    now = timezone.now()
    incidents = Incident.objects.bulk_create([
        Incident(case_number=f"B-{i:06d}", offense_type="Burglary", location=Point(-78.6382, 35.7796, srid=4326),
                 address="200 Fayetteville St", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1),
                 radius_m=300, owner_summary="A car was broken into on this block.")
        for i in range(-(-n // 50))])
    key_id = current_key_id()
    clips = []
    evidence.mkdir(parents=True, exist_ok=True)
    data = os.urandom(file_bytes)
    for i in range(n):
        code = uuid.uuid4()
        clips.append(Clip(code=code, incident=incidents[i // 50], original_name=f"VID_{i}.mp4",
                          media_format="mov,mp4,m4a,3gp,3g2,mj2", size=file_bytes, sha256=code.hex * 2,
                          stored_name=f"{code}.cnev", master_key_id=key_id, wrapped_key=os.urandom(60),
                          keep_days_after_close=90, uploaded_by="bench"))
        (evidence / f"{code}.cnev").write_bytes(data)
        key_store.shred_key_create(code)
    Clip.objects.bulk_create(clips, batch_size=5000)


def bare_backup(target: Path, evidence: Path) -> None:
    from backup import database

    target.mkdir()
    with database._conninfo() as conninfo:
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                        f"--file={target / 'database.dump'}", f"--dbname={conninfo}"], check=True)
    shutil.copytree(evidence, target / "evidence")


def bare_restore(source: Path, evidence: Path) -> None:
    from django.db import connections

    from backup import database

    connections.close_all()
    listing = subprocess.run(["pg_restore", "--list", str(source / "database.dump")], check=True,
                             capture_output=True, text=True).stdout
    list_file = source / "restore.list"
    list_file.write_text("\n".join(line for line in listing.splitlines() if " EXTENSION " not in line) + "\n")
    with database._conninfo() as conninfo:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
                        "--no-owner", "--no-privileges", f"--use-list={list_file}", f"--dbname={conninfo}",
                        str(source / "database.dump")], check=True)
    shutil.copytree(source / "evidence", evidence, dirs_exist_ok=True)


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    value = work()
    return round(time.perf_counter() - started, 3), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 clips of 64 KiB instead of 5,000 of 256 KiB")
    args = parser.parse_args()
    n, file_bytes = (1_000, 64 * 1024) if args.quick else (5_000, 256 * 1024)
    guard = single_run_guard(NAME)  # noqa: F841 -- held until the process exits
    workdir = Path(tempfile.mkdtemp(prefix="connect-bench-backup-"))
    evidence, keys = workdir / "evidence", workdir / "keys"
    try:
        setup_django(evidence, keys)
        with _services.redis_database(REDIS_URL, NAME):
            from audit.ledger import verify
            from backup.services import backup_create, backup_restore

            log(f"making {n} clips of {file_bytes // 1024} KiB")
            make_clips(n, file_bytes, evidence)
            bare_backup_s, _ = timed(lambda: bare_backup(workdir / "bare", evidence))
            log(f"bare backup {bare_backup_s} s")
            connect_backup_s, made = timed(lambda: backup_create(destination=workdir / "sets"))
            log(f"connect backup {connect_backup_s} s")
            bare_restore_s, _ = timed(lambda: bare_restore(workdir / "bare", evidence))
            log(f"bare restore {bare_restore_s} s")
            connect_restore_s, restored = timed(lambda: backup_restore(folder=made.folder))
            log(f"connect restore {connect_restore_s} s")
            if restored.evidence_files != n or not verify().ok:
                raise RuntimeError("the restore did not bring every file back, or the ledger does not verify")
            result = {"benchmark": NAME, "quick": args.quick, "clips": n, "evidence_bytes": n * file_bytes,
                      "code_commit": code_commit(),
                      "bare_backup_s": bare_backup_s, "connect_backup_s": connect_backup_s,
                      "backup_ratio": _data.ratio(connect_backup_s, bare_backup_s),
                      "bare_restore_s": bare_restore_s, "connect_restore_s": connect_restore_s,
                      "restore_ratio": _data.ratio(connect_restore_s, bare_restore_s),
                      "machine": _data.machine()}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        from django.db import connections

        connections.close_all()  # the database stays (marked as this benchmark's) until the next run recreates it
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
