"""Evidence download: one large clip streamed out of connect's web process, from local disk and from an S3 server.

    .venv/bin/python bench/evidence_download.py          # a 1 GiB clip
    .venv/bin/python bench/evidence_download.py --quick  # 96 MiB (under a minute)
    .venv/bin/python bench/evidence_download.py --store local  # one store only (local, s3 or s3rver)

MiB here is 2^20 bytes. The clip is random bytes (a download neither probes nor decodes it), sealed once with
connect's EncryptingWriter into a temporary folder; its plaintext is regenerated from a seed to check what comes
back, never kept whole. The database is this script's own, `connect_bench_evidence_download`, dropped, created and
migrated afresh every run; an incident, an investigator assigned to it and two Clip rows (one per store, each with
its own wrapped data key over the same sealed file) are made through the ORM. The S3 servers, each a real process on
a free port that the sealed file is uploaded to in 16 MiB parts through connect's S3Store, are two:
  s3       moto's standalone server (`moto_server`), the tests' server. It reads the whole object for every GET,
           ranged or not, so at 1 GiB its first byte and its ranges measure moto.
  s3rver   s3rver (npm, locked in bench/s3rver/package-lock.json, which this script installs into var/bench-s3rver
           with `npm ci`; Node.js from Debian), which keeps each object as a file and reads only the asked range, as
           S3 and MinIO do: the store to read connect's own time to first byte and ranges from.

What runs, once per store: connect's web process as the Procfile runs it (`python -m uvicorn
connect.asgi:application`, one process; for a bucket with CONNECT_EVIDENCE_STORAGE=s3://... and the S3 server's
endpoint), and a signed-in investigator's session cookie (made with Django's test client's force_login against the
same database and Redis).

  connect   GET /evidence/<clip>/download/ on one connection, the body read into one reused 1 MiB buffer and
            counted, the byte count checked; 3 downloads, each after one run of the bare loop (the two take turns,
            so a change in the machine's load falls on both), the best of each side compared (`all_mib_per_s`
            lists them) and the largest memory growth of the 3 reported. The server authenticates every record
            (AES-GCM, its position and last-record flag bound in) and no longer re-hashes the whole clip on the way
            out (docs/SECURITY.md, Evidence integrity); one more, untimed download is hashed by this client, as a
            downloader would, against the SHA-256 taken at upload (`client_sha256_ok`).
  bare      in this process, over the same store: read the sealed file record by record (local: os.pread;
            bucket: one GET_object of the whole object, no HEAD, streamed record by record, as connect's S3 store
            does) and decrypt each record with AES-256-GCM; nothing sent; the best of 3 runs, one before each of
            connect's downloads (its first also fills the page cache, as connect's warm-up does). connect
            does strictly more (HTTP, a session, the ledger). Its time to the first decrypted record
            (`bare.first_record_ms`, median of 3 or 5 fresh starts) is the floor for connect's time to first
            byte: moto's server reads the whole object for every GET, ranged or not.
  raw       a diagnostic, once: the same number of bytes over one loopback TCP connection from another process,
            received as connect's client receives; no HTTP, no store, no decryption (`diagnostic_raw_loopback`,
            with the sending process's CPU time against the bare loop's).
            On 2 shared cores it can be slower than the bare loop itself: then the 0.5x target is out of reach of
            any HTTP download here, and `ratio_to_raw_loopback` says how near connect comes to the transport.
Figures per store: throughput (MiB/s) and its ratio to the bare loop (target >= 0.5), and the CPU time the web
process used for the download against the bare loop's (`cpu_ratio_to_bare`: bare CPU / server CPU, which a loaded
machine moves least; the bucket's bare loop counts boto3's reading, and moto's own CPU is in neither); the web
process's peak memory growth during the download (VmRSS polled every 20 ms from /proc/<pid>/status against VmRSS
just before; target < 64 MiB); time to first byte, median of 5 (request sent -> first body byte; target < 200 ms);
and Range reads of 1 MiB at random offsets on one keep-alive connection, p50 and p95 (target p50 < 20 ms on local
disk), each checked against the regenerated plaintext.

Every file made is deleted, the S3 servers and the web processes are stopped, the Redis database (5) is emptied
of this run's keys. Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

BENCHMARK = "evidence_download"
DB_NAME = "connect_bench_evidence_download"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/5"  # this script's own Redis database (bench/_services.py)
ROOT = _data.ROOT
MIB = 1024 * 1024
STORES = ("local", "s3", "s3rver")  # local disk, moto's server, s3rver (see above)
BUCKET = "bench-evidence"
log = _data.log


def setup_django(keys: Path) -> None:
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, BENCHMARK)
    # The shred key store: this script's own folder, shared with the web servers it starts (they inherit it).
    os.environ.update({"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
                       "CONNECT_KEY_STORE_DIR": str(keys), "DJANGO_SETTINGS_MODULE": "connect.settings"})
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def plaintext_piece(index: int) -> bytes:
    """MiB number `index` of the clip: random-looking, the same every time it is asked for."""
    return random.Random(index).randbytes(MIB)


def plaintext_range(start: int, stop: int) -> bytes:
    pieces = [plaintext_piece(i) for i in range(start // MIB, (stop - 1) // MIB + 1)]
    base = (start // MIB) * MIB
    return b"".join(pieces)[start - base: stop - base]


def seal_clip(path: Path, size_mib: int):
    from common.sealed import EncryptingWriter

    writer = EncryptingWriter(str(path))
    for index in range(size_mib):
        writer.write(plaintext_piece(index))
    writer.close()
    return writer


def make_rows(writer, stored_names: dict[str, str], size: int):
    """An incident, its investigator, one clip row per store; -> (investigator, {store: clip})."""
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from requests_app import evidence_keys, services
    from requests_app.models import Clip, Incident

    investigator = User.objects.create_user(username="bench-investigator", is_staff=True)
    investigator.groups.add(Group.objects.get(name="Investigator"))  # made by the migrations (common/roles.py)
    now = timezone.now()
    incident = Incident.objects.create(
        case_number="26-900001", offense_type="Burglary", location=Point(-78.6382, 35.7796, srid=4326),
        address="200 Fayetteville St", starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=3),
        radius_m=300, owner_summary="bench", internal_notes="bench")
    services.incident_investigators_set(incident=incident, users=[investigator])
    clips = {}
    for store, name in stored_names.items():
        clip = Clip(code=uuid.UUID(name.removesuffix(".cnev")), incident=incident, original_name="bench.mp4",
                    media_format="mov,mp4", size=size, sha256=writer.sha256.hexdigest(), stored_name=name,
                    keep_days_after_close=90, uploaded_by="owner")
        evidence_keys.clip_key_seal(clip, writer.data_key)  # under a shred key, as an upload's
        clip.save()
        clips[store] = clip
    return investigator, clips


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


# --- processes ---------------------------------------------------------------------------------------

S3RVER_PACKAGE = ROOT / "bench" / "s3rver"  # its package.json and lock
S3RVER = ROOT / "var" / "bench-s3rver"  # where npm installs it: bench/ holds only connect's own files


def start_s3_server(kind: str, work: Path, log_file) -> tuple[subprocess.Popen, dict]:
    """moto's or s3rver's server on a free port; -> (the process, S3Store's connection arguments)."""
    port = free_port()
    if kind == "s3":
        command = [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        credentials = "bench"
    else:
        if shutil.which("node") is None or shutil.which("npm") is None:
            raise RuntimeError("s3rver needs Node.js and npm: apt-get install nodejs npm")
        lock = (S3RVER_PACKAGE / "package-lock.json").read_bytes()
        if not (S3RVER / "node_modules" / "s3rver").is_dir() or (S3RVER / "package-lock.json").read_bytes() != lock:
            log(f"installing s3rver into {S3RVER.relative_to(ROOT)} (npm ci, as locked in bench/s3rver)")
            S3RVER.mkdir(parents=True, exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(S3RVER_PACKAGE / name, S3RVER / name)
            subprocess.run(["npm", "ci", "--prefix", str(S3RVER), "--no-audit", "--no-fund", "--loglevel=error"],
                           check=True, stdout=log_file, stderr=subprocess.STDOUT)
        data = work / "s3rver"
        data.mkdir()
        command = [shutil.which("node"), str(S3RVER / "node_modules" / "s3rver" / "bin" / "s3rver.js"),
                   "-d", str(data), "-a", "127.0.0.1", "-p", str(port), "--silent"]
        credentials = "S3RVER"  # s3rver's own, which it checks signatures against
    server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    wait_http(port, "/", server)
    return server, {"endpoint_url": f"http://127.0.0.1:{port}", "access_key_id": credentials,
                    "secret_access_key": credentials}


def start_web(port: int, env_extra: dict, log_file) -> subprocess.Popen:
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "connect.settings", **env_extra}
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "uvicorn", "connect.asgi:application",
               "--host", "127.0.0.1", "--port", str(port), "--no-server-header"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    wait_http(port, "/healthz", server)
    return server


def wait_http(port: int, path: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} in time")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time the process has used (its threads included), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssPoller(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self._halt = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_kib = max(self.peak_kib, vm_rss_kib(self.pid))
            self._halt.wait(0.02)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- measurements ------------------------------------------------------------------------------------

def download(port: int, path: str, cookie: str, server: subprocess.Popen, expected: tuple[int, str]) -> dict:
    before, cpu_before = vm_rss_kib(server.pid), cpu_seconds(server.pid)
    poller = RssPoller(server.pid)
    poller.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
    response = conn.getresponse()
    received, buffer = 0, bytearray(MIB)  # one buffer reused, as a client writing to disk would
    while count := response.readinto(buffer):
        received += count
    seconds = time.perf_counter() - started
    cpu_user, cpu_system = (after - before for after, before in zip(cpu_seconds(server.pid), cpu_before, strict=True))
    poller.stop()
    conn.close()
    ok = response.status == 200 and received == expected[0] and response.getheader("X-Content-SHA256") == expected[1]
    return {"ok": ok, "status": response.status, "bytes": received, "seconds": round(seconds, 3),
            "mib_per_s": round(received / MIB / seconds, 1), "server_cpu_s": round(cpu_user + cpu_system, 3),
            "server_cpu_system_s": round(cpu_system, 3),
            "rss_before_mib": round(before / 1024, 1),
            "peak_rss_growth_mib": round((poller.peak_kib - before) / 1024, 1)}


def first_byte(port: int, path: str, cookie: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
    response = conn.getresponse()
    response.read(1)
    seconds = time.perf_counter() - started
    conn.close()  # the rest is not wanted: the server sees the client leave
    return seconds


def ranges(port: int, path: str, cookie: str, size: int, count: int, rng: random.Random) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, wrong = [], 0
    for _ in range(count):
        start = rng.randrange(0, size - MIB)
        began = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}",
                                           "Range": f"bytes={start}-{start + MIB - 1}"})
        response = conn.getresponse()
        body = response.read()
        times.append(time.perf_counter() - began)
        wrong += response.status != 206 or body != plaintext_range(start, start + MIB)
    conn.close()
    times.sort()
    return {"count": count, "wrong": wrong, "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 2)}


def bare_local(path: Path, data_key: bytes) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from common.sealed import HEADER, RECORD, _aad, _nonce

    aead = AESGCM(data_key)
    started, cpu = time.perf_counter(), time.process_time()
    total, first = 0, None
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        prefix = os.pread(file.fileno(), 8, HEADER - 8)
        records = (size - HEADER + RECORD - 1) // RECORD
        for index in range(records):
            sealed = os.pread(file.fileno(), RECORD, HEADER + index * RECORD)
            plaintext = aead.decrypt(_nonce(prefix, index), sealed, _aad(index, index == records - 1))
            total += len(plaintext)
            if first is None:
                first = time.perf_counter() - started
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"bytes": total, "seconds": round(seconds, 3), "mib_per_s": round(total / MIB / seconds, 1),
            "cpu_s": round(cpu, 3), "first_record_ms": round(first * 1000, 2)}


def bare_s3(client, key: str, data_key: bytes, *, first_only: bool = False) -> dict:
    """The best bare loop over the bucket: one GET of the whole object (its size from the answer's Content-Length,
    no HEAD first), streamed record by record and decrypted. `first_only`: stop after the first record."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from common.sealed import HEADER, RECORD, _aad, _nonce

    aead = AESGCM(data_key)
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get_object(Bucket=BUCKET, Key=key)
    body, size = response["Body"], response["ContentLength"]
    records = (size - HEADER + RECORD - 1) // RECORD
    prefix = body.read(HEADER)[HEADER - 8:]
    total, first = 0, None
    for index in range(records):
        sealed = body.read(RECORD)
        total += len(aead.decrypt(_nonce(prefix, index), sealed, _aad(index, index == records - 1)))
        if first is None:
            first = time.perf_counter() - started
            if first_only:
                body.close()
                break
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"bytes": total, "seconds": round(seconds, 3), "mib_per_s": round(total / MIB / seconds, 1),
            "cpu_s": round(cpu, 3), "first_record_ms": round(first * 1000, 2)}


RAW_SENDER = """
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
piece = bytes(range(256)) * 4096
with socket.create_connection(("127.0.0.1", port)) as conn:
    for _ in range(size // len(piece)):
        conn.sendall(piece)
"""


def raw_loopback(size: int) -> dict:
    """The transport alone, a diagnostic: `size` bytes over one loopback TCP connection from another process (one
    1 MiB buffer sent again and again), received into a reused buffer; no HTTP, no store, no decryption. No HTTP
    download over loopback can beat it. The best of 3."""
    import resource
    import socket

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the senders, once waited for
        return usage.ru_utime + usage.ru_stime

    runs = []
    for _ in range(3):
        cpu_before = children_cpu()
        with socket.create_server(("127.0.0.1", 0)) as listener:
            sender = subprocess.Popen([sys.executable, "-c", RAW_SENDER, str(listener.getsockname()[1]), str(size)])
            conn, _ = listener.accept()
            buffer, received = bytearray(MIB), 0
            started = time.perf_counter()
            with conn:
                while count := conn.recv_into(buffer):
                    received += count
            seconds = time.perf_counter() - started
            sender.wait(timeout=60)
        # The sender's CPU includes its interpreter's start (about 20 ms): a small overstatement.
        runs.append({"bytes": received, "seconds": round(seconds, 3), "mib_per_s": round(received / MIB / seconds, 1),
                     "sender_cpu_s": round(children_cpu() - cpu_before, 3)})
    return max(runs, key=lambda run: run["mib_per_s"])


def client_sha256_ok(port: int, path: str, cookie: str, expected: tuple[int, str]) -> bool:
    """An untimed download hashed by the client, as a downloader checks a clip against its custody report."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
    response = conn.getresponse()
    digest, received = hashlib.sha256(), 0
    while piece := response.read(MIB):
        digest.update(piece)
        received += len(piece)
    conn.close()
    return response.status == 200 and received == expected[0] and digest.hexdigest() == expected[1]


def measure(store: str, port: int, server, clip, cookie: str, size: int, bare_once, bare_first_ms: float,
            quick: bool) -> dict:
    path = f"/evidence/{clip.code}/download/"
    log(f"{store}: warm-up and time to first byte")
    first_byte(port, path, cookie)
    ttfb = sorted(first_byte(port, path, cookie) for _ in range(5))
    log(f"{store}: the bare loop and a whole download, taking turns, 3 times")
    bares, wholes = [], []
    for _ in range(3):
        bares.append(bare_once())
        wholes.append(download(port, path, cookie, server, (size, clip.sha256)))
    bare = max(bares, key=lambda run: run["mib_per_s"])  # the best of each side: no handicap for either
    bare["all_mib_per_s"] = [run["mib_per_s"] for run in bares]
    bare["first_record_ms"] = bare_first_ms
    whole = max(wholes, key=lambda run: run["mib_per_s"])
    whole["all_mib_per_s"] = [run["mib_per_s"] for run in wholes]
    whole["ok"] = all(run["ok"] for run in wholes)
    whole["peak_rss_growth_mib"] = max(run["peak_rss_growth_mib"] for run in wholes)
    log(f"{store}: {whole['mib_per_s']} MiB/s, bare {bare['mib_per_s']} MiB/s; a download hashed by the client")
    whole["client_sha256_ok"] = client_sha256_ok(port, path, cookie, (size, clip.sha256))
    log(f"{store}: ranges")
    # moto reads a whole object for every ranged GET, so its ranges say more about moto than connect: fewer.
    count = (10 if quick else 20) if store == "s3" else (30 if quick else 100)
    ranged = ranges(port, path + "?inline=1", cookie, size, count, random.Random(7))
    # CPU per byte, the server's against the bare loop's: what the machine's other load does not move much.
    return {"download": whole, "bare": bare, "ratio_to_bare": round(whole["mib_per_s"] / bare["mib_per_s"], 3),
            "cpu_ratio_to_bare": round(bare["cpu_s"] / whole["server_cpu_s"], 3) if whole["server_cpu_s"] else None,
            "ttfb_ms_median": round(statistics.median(ttfb) * 1000, 1), "ttfb_ms_max": round(ttfb[-1] * 1000, 1),
            "range_1mib": ranged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 96 MiB clip instead of 1 GiB")
    parser.add_argument("--store", choices=STORES, help="measure one store only (default: all)")
    args = parser.parse_args()
    size_mib = 96 if args.quick else 1024
    size = size_mib * MIB
    guard = single_run_guard(BENCHMARK)  # noqa: F841 -- held until the process exits
    commit = code_commit()
    pressure = pressure_totals()
    began = time.monotonic()
    result = {"benchmark": BENCHMARK, "quick": args.quick, "clip_mib": size_mib, "code_commit": commit}
    processes = []
    with tempfile.TemporaryDirectory(prefix="connect-bench-download-") as work, \
            _services.redis_database(REDIS_URL, BENCHMARK), open(Path(work) / "servers.log", "w") as server_log:
        work = Path(work)
        evidence = work / "evidence"
        evidence.mkdir(mode=0o700)
        try:
            setup_django(work / "keys")
            import boto3
            import botocore.config

            log(f"sealing a {size_mib} MiB clip")
            stores = [store for store in STORES if args.store in (None, store)]
            codes = {store: f"{uuid.uuid4()}.cnev" for store in ("local", *stores)}
            writer = seal_clip(evidence / codes["local"], size_mib)
            investigator, clips = make_rows(writer, {store: codes[store] for store in stores}, size)
            cookie = session_cookie(investigator)

            from common.evidence_store.s3 import S3Store

            envs, clients = {"local": {"CONNECT_EVIDENCE_DIR": str(evidence)}}, {}
            for store in (store for store in stores if store != "local"):
                server, connection = start_s3_server(store, work, server_log)
                processes.append(server)
                clients[store] = boto3.client(
                    "s3", endpoint_url=connection["endpoint_url"], region_name="us-east-1",
                    aws_access_key_id=connection["access_key_id"],
                    aws_secret_access_key=connection["secret_access_key"],
                    config=botocore.config.Config(s3={"addressing_style": "path"}))
                clients[store].create_bucket(Bucket=BUCKET)
                log(f"{store}: uploading the sealed clip")
                S3Store(bucket=BUCKET, prefix="clips", region="us-east-1", path_style=True, timeout_s=60, part_mb=16,
                        **connection).upload(evidence / codes["local"], codes[store])
                envs[store] = {
                    "CONNECT_EVIDENCE_DIR": str(work / f"staging-{store}"),
                    "CONNECT_EVIDENCE_STORAGE": f"s3://{BUCKET}/clips",
                    "CONNECT_EVIDENCE_S3_ENDPOINT_URL": connection["endpoint_url"],
                    "CONNECT_EVIDENCE_S3_ACCESS_KEY_ID": connection["access_key_id"],
                    "CONNECT_EVIDENCE_S3_SECRET_ACCESS_KEY": connection["secret_access_key"],
                    "CONNECT_EVIDENCE_S3_PATH_STYLE": "true", "CONNECT_EVIDENCE_S3_TIMEOUT_SECONDS": "60"}
            for store in stores:
                log(f"{store}: bare read+decrypt loop, time to its first record")
                if store == "local":
                    def bare_once():
                        return bare_local(evidence / codes["local"], writer.data_key)
                    firsts = [bare_once()["first_record_ms"] for _ in range(3)]  # the first also fills the cache
                else:
                    def bare_once(client=clients[store], key=f"clips/{codes[store]}"):
                        return bare_s3(client, key, writer.data_key)
                    firsts = [bare_s3(clients[store], f"clips/{codes[store]}", writer.data_key,
                                      first_only=True)["first_record_ms"] for _ in range(5)]
                port = free_port()
                server = start_web(port, envs[store], server_log)
                processes.append(server)
                result[store] = measure(store, port, server, clips[store], cookie, size, bare_once,
                                        round(statistics.median(firsts), 2), args.quick)
                if store == "local":
                    log("diagnostic: the bare loopback transport")
                    result["diagnostic_raw_loopback"] = raw = raw_loopback(size)
                    bare = result[store]["bare"]
                    result["diagnostic_raw_loopback_ratio_to_bare"] = round(raw["mib_per_s"] / bare["mib_per_s"], 3)
                    result["diagnostic_raw_loopback_cpu_ratio_to_bare"] = round(bare["cpu_s"] / raw["sender_cpu_s"], 3)
                if "diagnostic_raw_loopback" in result:
                    result[store]["ratio_to_raw_loopback"] = round(
                        result[store]["download"]["mib_per_s"] / result["diagnostic_raw_loopback"]["mib_per_s"], 3)
                stop(server)
        except Exception as exc:  # the one JSON line still says what went wrong
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            for process in processes:
                stop(process)
    targets = {}
    for store in STORES:
        if store in result:
            figures = result[store]
            targets[store] = {
                "ratio_ge_0_5": figures["ratio_to_bare"] >= 0.5,
                "memory_growth_lt_64_mib": figures["download"]["peak_rss_growth_mib"] < 64,
                "ttfb_lt_200_ms": figures["ttfb_ms_median"] < 200,
                "download_ok": figures["download"]["ok"] and figures["download"]["client_sha256_ok"]
                and figures["range_1mib"]["wrong"] == 0}
    if "local" in result:
        targets["local"]["range_p50_lt_20_ms"] = result["local"]["range_1mib"]["p50_ms"] < 20
    result["targets_met"] = targets
    seconds = time.monotonic() - began
    result["seconds"] = round(seconds, 1)
    result["pressure"] = pressure_share(pressure, seconds)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
