"""Evidence ingest: one 1 GiB video uploaded through the consent page's real HTTP endpoint.

    .venv/bin/python bench/evidence_ingest.py          # 1 GiB (the video is made once, about 10 s, and cached)
    .venv/bin/python bench/evidence_ingest.py --quick  # 100 MiB (well under a minute)

MB here means MiB (2^20 bytes), the unit of CONNECT_UPLOAD_MAX_MB.

The upload is a real MPEG-4 (Part 2) video in an MP4 container, 1280x720 at 30 fps, made with PyAV from
random frames (which barely compress) until it reaches the size, cached under /tmp and checked to probe as
video before each run. The database is this script's own, `connect_bench_requests_ingest` (never `connect`),
dropped, created from template1 (PostGIS) and migrated afresh every run; an incident, an owner, a camera and
a SENT footage request are made there through the ORM for each upload, and the consent link comes from
requests_app.services.consent_link.

What runs: connect's web process as the Procfile runs it (`python -m uvicorn connect.asgi:application`, one
process) with CONNECT_EVIDENCE_DIR set to a temporary folder and CONNECT_UPLOAD_MAX_MB a little above the
file's size. A warm-up upload of a tiny video (to another request) goes first.

  connect  GET the consent page (csrftoken cookie and csrfmiddlewaretoken), then POST, as the page's script
           does, the file as the raw body to /footage/<token>/upload/stream/ (X-CSRFToken, X-Keep-Days: 30,
           X-Upload-Names and -Sizes) with an explicit Content-Length, streamed from the file in 1 MiB pieces (never
           held in memory), on one connection; timed from the first byte sent to the response read.
           Checked: 200, one Clip whose SHA-256 is the file's. `--upload form` posts the no-script fallback
           instead: /footage/<token>/upload/ as multipart/form-data (csrfmiddlewaretoken, keep_days=30, the
           file in field `clips`), spooled sealed by connect.asgi_body and sealed again by the upload handler.
  bare     in this process: read the same file in 1 MiB chunks, SHA-256 it and seal each chunk with
           AES-256-GCM (cryptography's AESGCM) into a file in the same folder, fsync at the end (as
           EncryptingWriter does)
Memory: the web process's VmRSS, polled every 20 ms from /proc/<pid>/status during the upload, against its
VmRSS just before (after the warm-up); VmHWM (the kernel's own peak) is reported too.

Diagnostics, not targets (in this process, on the same file, to say where the web process's time goes):
  seal_spool     EncryptingWriter fed 64 KiB pieces (what connect.asgi_body.SealedSpool does with the body)
  unseal_spool   DecryptingReader read back in 1 MiB reads (what Django's multipart parser reads from)
  spool_without_hash_or_fsync   the same spool sealed with AES-GCM only: no SHA-256, no fsync (a fix's cost)
  multipart      Django's MultiPartParser over the multipart body with requests_app's EvidenceUploadHandler
                 (parse + SHA-256 + seal + fsync: everything the view does to the body after the spool)
  probe          requests_app.evidence.media_probe on the sealed clip
  sha256_only, aesgcm_only   reading the file and only hashing it, or only encrypting it (nothing written)
And `diagnostic_transport_only`: the same file as a form upload to a second web process started with
CONNECT_UPLOAD_MAX_MB=1, whose spool drains the body without keeping it: the cost of HTTP and the ASGI receive
loop alone. Targets: connect at 0.6x the bare loop or better, peak memory growth 100 MB at most, and the
answer 100 ms at most after the last body byte (the median round's `response_after_body_s`).
The client side's own times are reported too: when the last body byte was accepted by the socket
(`body_sent_s`) and how long the server then took to answer (`response_after_body_s`).

Experiments (not the standard run): `--server-variant lean-spool` runs the web process with the sealed spool
minus its SHA-256 and fsync; `--server-variant stream` with no spool at all, Django's parser reading the body
from the ASGI receive channel as it arrives (both are modules in SERVER_VARIANTS, written to the temporary
folder; the view, the upload handler, the clip's sealing and probe stay connect's own). `--rounds N` (3).

Every file made (evidence, spool leftovers, the baseline's output) is deleted; the cached video is kept.
Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

DB_NAME = "connect_bench_requests_ingest"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/6"  # this script's own Redis database (bench/_services.py)
ROOT = _data.ROOT
MIB = 1024 * 1024
CHUNK = MIB
log = _data.log


def setup_django() -> None:
    # A new database every run (about 2 s with the migrations): it always has the schema of the code under
    # test, even when a migration was edited in place, and no rows from earlier runs. It is this script's alone.
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, "evidence_ingest")  # only a database a benchmark made is dropped
    os.environ.update({"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
                       "DJANGO_SETTINGS_MODULE": "connect.settings"})
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- the video --------------------------------------------------------------------------------------

def probes_as_video(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False
            next(container.decode(container.streams.video[0]))
            return True
    except (av.FFmpegError, StopIteration, OSError):
        return False


def make_video(path: Path, target_bytes: int) -> None:
    """MPEG-4 Part 2 in MP4, 1280x720, 30 fps: random frames (they hardly compress) until the size is reached."""
    import av

    width, height = 1280, 720
    part = path.with_name(path.name + ".part")
    started = time.perf_counter()
    pool = []
    for _ in range(8):  # eight different noise frames, cycled: each frame differs wholly from the one before
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:
            plane.update(os.urandom(plane.buffer_size))
        pool.append(frame)
    with av.open(str(part), mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 1_000_000_000
        stream.codec_context.gop_size = 30
        index = written = 0
        while written < target_bytes:  # the packets' sizes: the file is that plus a small header and index
            frame = pool[index % len(pool)]
            frame.pts = index
            for packet in stream.encode(frame):
                written += packet.size
                container.mux(packet)
            index += 1
        for packet in stream.encode():
            container.mux(packet)
    part.rename(path)
    log(f"ingest: made {path} ({path.stat().st_size / MIB:.0f} MiB, {index} frames) "
        f"in {time.perf_counter() - started:.1f} s")


def ensure_video(size_mib: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"connect-bench-evidence-{size_mib}MiB.mp4"
    if path.exists() and path.stat().st_size >= size_mib * MIB and probes_as_video(path):
        log(f"ingest: reusing {path} ({path.stat().st_size / MIB:.0f} MiB)")
        return path
    path.unlink(missing_ok=True)
    make_video(path, size_mib * MIB)
    if not probes_as_video(path):
        raise RuntimeError(f"{path} does not probe as video")
    return path


def tiny_video() -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(24):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 9) % 256]) * plane.buffer_size)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


# --- the footage request ----------------------------------------------------------------------------

def sent_request():
    """A SENT footage request on a new incident and a new owner's camera, with its consent path."""
    from datetime import timedelta

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from registry.models import Camera, Owner
    from requests_app import services
    from requests_app.models import FootageRequest, Incident

    now = timezone.now()
    while True:
        case = f"26-{secrets.randbelow(1_000_000):06d}"
        if not Incident.objects.filter(case_number=case).exists():
            break
    incident = Incident.objects.create(
        case_number=case, offense_type="Burglary", location=Point(-78.6382, 35.7796, srid=4326),
        address="200 Fayetteville St", starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=3),
        radius_m=300, owner_summary="A car was broken into on this block on Tuesday evening.",
        internal_notes="bench")
    owner = Owner.objects.create(kind=Owner.Kind.RESIDENT, name="Ingest Owner",
                                 email=f"ingest-{secrets.token_hex(4)}@ingest.bench.invalid", terms_version="2026-1",
                                 terms_accepted_at=now, confirmed_at=now)
    camera = Camera.objects.create(owner=owner, label="Ingest porch", location=Point(-78.6383, 35.7797, srid=4326),
                                   placement=Camera.Placement.OUTDOOR, faces_public=True, direction_deg=90,
                                   status=Camera.Status.ACTIVE, verified=True)
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                            nonce=secrets.token_urlsafe(24), state=FootageRequest.State.SENT,
                                            sent_at=now, expires_at=now + timedelta(days=10))
    url = services.consent_link(request)
    return request, "/" + url.split("://", 1)[1].split("/", 1)[1]


# --- the web process --------------------------------------------------------------------------------

# Experiments (--server-variant): the web process runs one of these modules, written to the temporary folder,
# instead of connect.asgi. Both change only how the request body reaches Django; the view, the upload
# handler, the sealing of the clip and its probe are connect's own.
SERVER_VARIANTS = {
    # The sealed spool without what a temporary file deleted at the request's end does not need: its
    # SHA-256 (nobody reads it) and its fsync.
    "lean-spool": '''
import connect.asgi  # sets Django up
from connect import asgi_body
from common.sealed import EncryptingWriter


class _NoHash:
    def update(self, data):
        pass


class SpoolWriter(EncryptingWriter):
    def __init__(self, path):
        super().__init__(path)
        self.sha256 = _NoHash()

    def close(self):
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._file.close()


asgi_body.EncryptingWriter = SpoolWriter
application = connect.asgi.application
''',
    # No spool at all: Django's multipart parser reads the body from the ASGI receive channel as it parses
    # (async_to_sync from the view's thread), so the upload is sealed once, while it arrives. HTTP only.
    "stream": '''
import asyncio
import io

import connect.asgi  # sets Django up
from asgiref.sync import async_to_sync
from django.core.exceptions import RequestAborted

from connect.asgi_body import SealedBodyASGIHandler


class ReceiveStream(io.RawIOBase):
    def __init__(self, receive, loop):
        super().__init__()
        self._receive, self._loop = receive, loop
        self._pending = bytearray()
        self._more = True
        self.finished = asyncio.Event()
        self.oversize = False

    def readable(self):
        return True

    def _pull(self):
        message = async_to_sync(self._receive)()
        if message["type"] == "http.disconnect":
            self._more = False
            self._loop.call_soon_threadsafe(self.finished.set)
            raise RequestAborted()
        self._pending += message.get("body", b"")
        self._more = message.get("more_body", False)
        if not self._more:
            self._loop.call_soon_threadsafe(self.finished.set)

    def readinto(self, buffer):
        while self._more and len(self._pending) < len(buffer):
            self._pull()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        del self._pending[:n]
        return n


class StreamingHandler(SealedBodyASGIHandler):
    _streams = {}

    async def read_body(self, receive):
        stream = ReceiveStream(receive, asyncio.get_running_loop())
        self._streams[id(receive)] = stream
        return stream

    async def listen_for_disconnect(self, receive):
        stream = self._streams.pop(id(receive), None)
        if stream is not None:
            await stream.finished.wait()  # the body belongs to the view until it has all been read
        return await super().listen_for_disconnect(receive)


application = StreamingHandler()
''',
}


def start_server(port: int, evidence_dir: Path, max_mb: int, log_file, variant: str = "connect") -> subprocess.Popen:
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
           "CONNECT_EVIDENCE_DIR": str(evidence_dir), "CONNECT_UPLOAD_MAX_MB": str(max_mb),
           "DJANGO_SETTINGS_MODULE": "connect.settings"}
    app = "connect.asgi:application"
    if variant != "connect":
        folder = evidence_dir.parent
        (folder / "bench_asgi_variant.py").write_text(SERVER_VARIANTS[variant])
        env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT)])
        app = "bench_asgi_variant:application"
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "uvicorn", app,
               "--host", "127.0.0.1", "--port", str(port), "--no-server-header"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer in time")


def proc_status_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


class RssPoller(threading.Thread):
    """Polls the web process's VmRSS every 20 ms; keeps the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid)["VmRSS"])
            self.samples += 1
            self._halt.wait(0.02)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def consent_page(port: int, path: str) -> tuple[str, str]:
    """(csrftoken cookie, csrfmiddlewaretoken) from the consent page, as a browser gets them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    cookies = [value for key, value in response.getheaders() if key.lower() == "set-cookie"]
    cookie = next(c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith("csrftoken="))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    return cookie, token


def multipart_parts(boundary: str, token: str, filename: str) -> tuple[bytes, bytes]:
    """The multipart body before and after the file's bytes."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"keep_days\"\r\n\r\n30\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"clips\"; filename=\"{filename}\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail


def file_chunks(path: Path):
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def upload(port: int, path: str, chunks, size: int, filename: str, mode: str = "stream") -> dict:
    """POSTs the consent upload, the body streamed from `chunks` (size bytes of file); times it. `stream`: the
    file as the raw body to upload/stream/, as the page's script sends it; `form`: the multipart form."""
    cookie, token = consent_page(port, path)
    if mode == "stream":
        head, tail = b"", b""
        target = path + "upload/stream/"
        headers = {"Content-Type": "application/octet-stream", "X-CSRFToken": token, "X-Keep-Days": "30",
                   "X-Upload-Names": filename, "X-Upload-Sizes": str(size)}
    else:
        boundary = "----connectbench" + secrets.token_hex(12)
        head, tail = multipart_parts(boundary, token, filename)
        target = path + "upload/"
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    conn.putrequest("POST", target, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.putheader("Cookie", f"csrftoken={cookie}")
    conn.putheader("Origin", f"http://127.0.0.1:{port}")
    conn.putheader("Referer", f"http://127.0.0.1:{port}{path}")
    conn.endheaders()
    if head:
        conn.send(head)
    for chunk in chunks:
        conn.send(chunk)
    if tail:
        conn.send(tail)
    body_sent = time.perf_counter() - started
    response = conn.getresponse()
    text = response.read().decode(errors="replace")
    seconds = time.perf_counter() - started
    conn.close()
    return {"status": response.status, "seconds": seconds, "body_sent_s": body_sent,
            "response_after_body_s": seconds - body_sent, "text": text}


# --- the baseline and the diagnostics ---------------------------------------------------------------

def bare_seal(source: Path, target: Path) -> tuple[float, str]:
    """Read in 1 MiB chunks, SHA-256, AES-256-GCM each chunk into `target`, fsync: (seconds, hex digest)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    started = time.perf_counter()
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    prefix = os.urandom(8)
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as out:
        index = 0
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(aead.encrypt(prefix + struct.pack(">I", index), chunk, None))
            index += 1
        out.flush()
        os.fsync(out.fileno())
    return time.perf_counter() - started, digest.hexdigest()


class _BodyStream(io.RawIOBase):
    """The multipart body (head + file + tail) as a read-only stream, never all in memory."""

    def __init__(self, head: bytes, path: Path, tail: bytes):
        super().__init__()
        self._parts = [io.BytesIO(head), open(path, "rb"), io.BytesIO(tail)]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._parts:
            data = self._parts[0].read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self._parts.pop(0).close()
        return 0


def diagnostics(source: Path, size: int, folder: Path) -> dict:
    """Where the web process's time goes, piece by piece, in this process on the same file."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.conf import settings
    from django.http.multipartparser import MultiPartParser

    from common.sealed import DecryptingReader, EncryptingWriter
    from requests_app import evidence

    result = {}
    settings.EVIDENCE_DIR = folder
    folder.mkdir(parents=True, exist_ok=True)
    piece = 64 * 1024  # what uvicorn hands the ASGI app per http.request message, about
    spool = folder / "diag-spool.sealed"
    started = time.perf_counter()
    writer = EncryptingWriter(str(spool))
    with open(source, "rb") as src:
        while data := src.read(piece):
            writer.write(data)
    writer.close()
    result["seal_spool_s"] = time.perf_counter() - started
    started = time.perf_counter()
    reader = DecryptingReader(str(spool), writer.data_key)
    while reader.read(CHUNK):
        pass
    reader.close()
    result["unseal_spool_s"] = time.perf_counter() - started
    spool.unlink()
    # The least a sealed spool needs: the same 64 KiB pieces gathered into 1 MiB records and sealed, but no
    # SHA-256 (nobody reads the spool's) and no fsync (the file is deleted when the request ends).
    started = time.perf_counter()
    aead, prefix, index, pending = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(8), 0, bytearray()
    with open(source, "rb") as src, open(spool, "xb") as out:
        while data := src.read(piece):
            pending += data
            if len(pending) >= CHUNK:
                out.write(aead.encrypt(prefix + struct.pack(">I", index), bytes(pending[:CHUNK]), None))
                del pending[:CHUNK]
                index += 1
        out.write(aead.encrypt(prefix + struct.pack(">I", index), bytes(pending), None))
    result["spool_without_hash_or_fsync_s"] = time.perf_counter() - started
    spool.unlink()

    digest = hashlib.sha256()
    started = time.perf_counter()
    for chunk in file_chunks(source):
        digest.update(chunk)
    result["sha256_only_s"] = time.perf_counter() - started
    aead, nonce = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12)
    started = time.perf_counter()
    for chunk in file_chunks(source):
        aead.encrypt(nonce, chunk, None)  # one nonce for all: a speed test only, nothing is kept
    result["aesgcm_only_s"] = time.perf_counter() - started

    boundary = "----connectbench" + secrets.token_hex(12)
    head, tail = multipart_parts(boundary, "x" * 64, "porch.mp4")
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(len(head) + size + len(tail))}
    handler = evidence.EvidenceUploadHandler()
    stream = _BodyStream(head, source, tail)
    started = time.perf_counter()
    _post, files = MultiPartParser(meta, stream, [handler]).parse()
    result["multipart_s"] = time.perf_counter() - started
    stream.close()
    sealed = files.getlist("clips")[0]
    started = time.perf_counter()
    info = evidence.media_probe(sealed.path, sealed.data_key)
    result["probe_s"] = time.perf_counter() - started
    result["probe_found"] = f"{info.media_format} {info.width}x{info.height} {info.duration_s:.1f} s"
    handler.discard()
    mb = size / MIB
    return {key: (round(value, 3) if isinstance(value, float) else value) for key, value in result.items()} | {
        f"{key[:-2]}_mb_per_s": round(mb / value, 1) for key, value in result.items() if key.endswith("_s")}


def spool_leftovers(*folders: Path) -> list[str]:
    """Spooled bodies in the temporary folder (older code's spool) and in `folders` (CONNECT_SPOOL_DIR, by default
    `spool` beside the evidence folder)."""
    return sorted(str(p) for folder in (Path(tempfile.gettempdir()), *folders)
                  for p in folder.glob("connect-body-*.sealed"))


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def connect_round(port: int, server: subprocess.Popen, video: Path, size: int, expected_sha: str,
                  evidence_dir: Path, mode: str) -> dict:
    """One timed upload to a fresh request, with the web process's memory watched; its clip then deleted."""
    from requests_app.models import Clip

    request, path = sent_request()
    os.sync()  # earlier writes reach the disk now, not during the timed upload
    time.sleep(0.5)
    before = proc_status_kib(server.pid)
    poller = RssPoller(server.pid)
    poller.start()
    round_stalls = pressure_totals()
    result = upload(port, path, file_chunks(video), size, "porch-camera.mp4", mode)
    poller.stop()
    result["pressure_stall_share"] = pressure_share(round_stalls, result["seconds"])
    after = proc_status_kib(server.pid)
    if result["status"] != 200:
        raise RuntimeError(f"the upload answered {result['status']}: {result['text'][:1000]}")
    clips = list(Clip.objects.filter(request=request))
    request.refresh_from_db()
    clip = clips[0] if clips else None
    checked = {
        "clips": len(clips), "clip_sha256_matches": bool(clip) and clip.sha256 == expected_sha,
        "clip_size_matches": bool(clip) and clip.size == size,
        "clip_probe": f"{clip.media_format} {clip.width}x{clip.height} {clip.duration_s:.1f} s" if clip else None,
        "request_state": request.state,
        "evidence_files": sorted(p.name for p in evidence_dir.iterdir()),
    }
    for clip in clips:  # the row stays (the database is dropped next run); the 1 GiB file goes now
        (evidence_dir / clip.stored_name).unlink(missing_ok=True)
    return {"seconds": result["seconds"], "body_sent_s": result["body_sent_s"],
            "pressure_stall_share": result["pressure_stall_share"],
            "response_after_body_s": result["response_after_body_s"],
            "rss_growth_mb": (poller.peak_kib - before["VmRSS"]) / 1024,
            "vmhwm_growth_mb": (after["VmHWM"] - before["VmRSS"]) / 1024,
            "rss_before_mb": before["VmRSS"] / 1024, "peak_rss_mb": poller.peak_kib / 1024,
            "rss_after_mb": after["VmRSS"] / 1024, "samples": poller.samples, "checked": checked}


def median(values) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 MiB instead of 1 GiB")
    parser.add_argument("--size-mib", type=int, help="size of the uploaded video in MiB")
    parser.add_argument("--rounds", type=int, default=3, help="timed uploads and bare runs, alternated")
    parser.add_argument("--upload", choices=["stream", "form"], default="stream",
                        help="stream: the raw body to upload/stream/ (the page's script); form: multipart (no script)")
    parser.add_argument("--server-variant", choices=["connect", *SERVER_VARIANTS], default="connect",
                        help="experiment: how the web process hands the body to Django (see SERVER_VARIANTS)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the web process is stopped and files removed
    guard = single_run_guard("evidence_ingest")  # noqa: F841 -- held until the process exits
    commit = code_commit()
    stalls, started_all = pressure_totals(), time.perf_counter()
    size_mib = args.size_mib or (100 if args.quick else 1024)

    setup_django()
    # Our own Redis database, empty but for what an interrupted run left (such as the consent pages' per-address
    # upload counts: this script posts five uploads a run from 127.0.0.1, and the limit is 30 per 10 minutes).
    _services.redis_claim(REDIS_URL, "evidence_ingest")
    video = ensure_video(size_mib)
    size = video.stat().st_size
    mb = size / MIB
    max_mb = int(mb) + 64
    log(f"ingest: hashing {video.name} (also brings it into the page cache)")
    digest = hashlib.sha256()
    for chunk in file_chunks(video):
        digest.update(chunk)
    expected_sha = digest.hexdigest()
    leftovers_before = set(spool_leftovers())

    work = Path(tempfile.mkdtemp(prefix="connect-bench-ingest-"))
    evidence_dir = work / "evidence"
    port = free_port()
    rounds, bare_runs = [], []
    try:
        with open(work / "server.log", "wb") as server_log:
            server = start_server(port, evidence_dir, max_mb, server_log, args.server_variant)
            try:
                _warm_request, warm_path = sent_request()
                small = tiny_video()
                warm = upload(port, warm_path, [small], len(small), "warm.mp4", args.upload)
                if warm["status"] != 200:
                    raise RuntimeError(f"the warm-up upload answered {warm['status']}: {warm['text'][:500]}")
                for i in range(args.rounds):
                    log(f"ingest: round {i + 1}/{args.rounds}: uploading {mb:.0f} MiB ...")
                    rounds.append(connect_round(port, server, video, size, expected_sha, evidence_dir, args.upload))
                    os.sync()
                    time.sleep(0.5)
                    bare_s, bare_sha = bare_seal(video, work / "bare.sealed")
                    (work / "bare.sealed").unlink()
                    bare_runs.append(bare_s)
                    log(f"ingest: connect {mb / rounds[-1]['seconds']:.1f} MB/s, bare {mb / bare_s:.1f} MB/s, "
                        f"RSS growth {rounds[-1]['rss_growth_mb']:.1f} MB")
            except BaseException:
                server_log.flush()
                log((work / "server.log").read_text(errors="replace")[-3000:])
                raise
            finally:
                stop_server(server)
        stray_spools = sorted(set(spool_leftovers(work / "spool")) - leftovers_before)

        # Diagnostic: the same body to a web process whose upload limit is 1 MB. Its SealedSpool finds the
        # body oversize after 2 MiB and from then on only drains it: uvicorn's HTTP and the ASGI receive loop,
        # nothing sealed, parsed or stored (the view then refuses the request).
        log("ingest: transport-only diagnostic ...")
        with open(work / "server-transport.log", "wb") as server_log:
            server = start_server(port, evidence_dir, 1, server_log)
            try:
                _request, path = sent_request()
                os.sync()
                transport = upload(port, path, file_chunks(video), size, "porch-camera.mp4", "form")
            finally:
                stop_server(server)
        log("ingest: in-process diagnostics ...")
        os.sync()
        diag = diagnostics(video, size, work / "diag")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    connect_s, bare_s = median(r["seconds"] for r in rounds), median(bare_runs)
    connect_speed, bare_speed = mb / connect_s, mb / bare_s
    growth_mb = max(r["rss_growth_mb"] for r in rounds)
    hwm_growth_mb = max(r["vmhwm_growth_mb"] for r in rounds)
    summary = {
        "benchmark": "evidence_ingest",
        "quick": args.quick,
        "code_commit": commit,
        "code_commit_at_end": code_commit(),
        "file": {"path": str(video), "bytes": size, "mib": round(mb, 1), "sha256": expected_sha},
        "rounds": args.rounds,
        "server_variant": args.server_variant,
        "upload": args.upload,
        "connect": {"seconds": round(connect_s, 3), "mb_per_s": round(connect_speed, 1),
                    "seconds_each": [round(r["seconds"], 3) for r in rounds],
                    "body_sent_s_each": [round(r["body_sent_s"], 3) for r in rounds],
                    "response_after_body_s_each": [round(r["response_after_body_s"], 3) for r in rounds],
                    "pressure_stall_share_each": [r["pressure_stall_share"] for r in rounds],
                    "checked_first_round": rounds[0]["checked"] | {"evidence_files": len(rounds[0]["checked"][
                        "evidence_files"])},
                    "all_rounds_ok": all(r["checked"]["clip_sha256_matches"] and r["checked"]["clip_size_matches"]
                                         for r in rounds),
                    "spool_files_left_in_tmp": stray_spools},
        "bare": {"seconds": round(bare_s, 3), "mb_per_s": round(bare_speed, 1),
                 "seconds_each": [round(s, 3) for s in bare_runs], "sha256_matches": bare_sha == expected_sha},
        "ratio": round(connect_speed / bare_speed, 3),
        "memory": {"peak_rss_growth_mb": round(growth_mb, 1), "vmhwm_growth_mb": round(hwm_growth_mb, 1),
                   "rss_before_mb_each": [round(r["rss_before_mb"], 1) for r in rounds],
                   "peak_rss_mb_each": [round(r["peak_rss_mb"], 1) for r in rounds],
                   "rss_after_mb_each": [round(r["rss_after_mb"], 1) for r in rounds],
                   "samples": sum(r["samples"] for r in rounds)},
        "upload_max_mb": max_mb,
        "diagnostics_inprocess": diag,
        "diagnostic_transport_only": {"status": transport["status"], "seconds": round(transport["seconds"], 3),
                                      "mb_per_s": round(mb / transport["seconds"], 1)},
        "targets": {"ratio_min": 0.6, "memory_growth_mb_max": 100, "ratio_met": connect_speed >= 0.6 * bare_speed,
                    "response_after_body_s_max": 0.1,
                    "response_met": median(r["response_after_body_s"] for r in rounds) <= 0.1,
                    "memory_met": max(growth_mb, hwm_growth_mb) <= 100},
        "machine": _data.machine() | {
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "pressure_stall_share": pressure_share(stalls, time.perf_counter() - started_all)},
    }
    log(f"ingest: median connect {connect_speed:.1f} MB/s, bare {bare_speed:.1f} MB/s, ratio {summary['ratio']}, "
        f"peak RSS growth {growth_mb:.1f} MB (VmHWM {hwm_growth_mb:.1f} MB)")
    _services.redis_release(REDIS_URL, "evidence_ingest")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
