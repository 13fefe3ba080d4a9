"""Evidence ingest: uploads are hashed and sealed into the staging folder as they stream in (and, with a bucket,
sent to it in parts meanwhile), probed with PyAV from the sealed file, and moved into the evidence store under
their clip's code before the clip's row exists (`SealedUpload.store`). Reading evidence back is evidence_out.py."""

import asyncio
import logging
import shutil
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from common.evidence_store import EvidenceStoreError, evidence_store
from common.metrics import Operation, evidence_store_error
from common.sealed import (
    DecryptingReader,
    EncryptingWriter,
    EvidenceIntegrityError,
)

logger = logging.getLogger(__name__)
UPLOAD_CHUNK = 1024 * 1024
MAX_PIXELS = 8192 * 8192


class NotMediaError(Exception):
    pass


@dataclass
class SealedUpload:
    """What the upload handler leaves in request.FILES: a sealed file, never plaintext."""

    name: str
    path: Path
    size: int
    sha256: str
    data_key: bytes
    kept: bool = False  # became a clip
    code: uuid.UUID = field(default_factory=uuid.uuid4)  # the clip's code, if it becomes one
    uploader: object = None  # a bucket's StreamingPartUpload, sending it while it arrived
    stored_as: str = ""  # the name it was moved into the evidence store under (`store`)
    lease: object = None  # the writer's FileLease: the staging file is in use until stored or closed
    _probed: "MediaInfo | NotMediaError | None" = None

    @property
    def stored_name(self) -> str:
        return f"{self.code}.cnev"

    def store(self) -> None:
        """Moves the sealed file into the evidence store under `stored_name`, whole or not at all
        (EvidenceStoreError). Sent while it arrived: only the rest goes now, and the object is completed."""
        if self.uploader is not None:
            self.uploader.complete()
            self.path.unlink(missing_ok=True)
        else:
            evidence_store().adopt(self.path, self.stored_name)
        self.stored_as = self.stored_name
        self._release()

    def _release(self) -> None:
        if self.lease is not None:
            self.lease.release()

    def media(self) -> "MediaInfo":
        """What PyAV finds in the sealed file, probed once; NotMediaError unless a video or image frame decodes."""
        self.probe()
        if isinstance(self._probed, NotMediaError):
            raise self._probed
        return self._probed

    def probe(self) -> None:
        if self._probed is None:
            try:
                self._probed = media_probe(self.path, self.data_key)
            except NotMediaError as exc:
                self._probed = exc

    def close(self) -> None:
        """Django closes uploaded files when the request ends, or on a parse error: what did not become a
        clip is deleted then, whatever path the request took (CSRF failure, bad form, crash)."""
        if not self.kept:
            self.path.unlink(missing_ok=True)
            self._release()
            if self.uploader is not None and not self.stored_as:
                self.uploader.abort()
            if self.stored_as:
                try:
                    evidence_store().delete(self.stored_as)
                except EvidenceStoreError:
                    logger.warning("evidence object %s of a failed upload could not be removed", self.stored_as)


def evidence_dir() -> Path:
    path = Path(settings.EVIDENCE_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass
class StoreHealth:
    """What /healthz and the metrics say of the evidence store. A storage backend's health() gives the same."""

    reachable: bool
    free_bytes: int | None = None  # None: the store cannot say (an object store)
    error: str = ""  # for operators only (it may name a path): /healthz shows it only with the metrics token


def evidence_store_health() -> StoreHealth:
    """What /healthz, the metrics and the administrators' dashboard say of evidence: the staging folder every upload
    is sealed into (on local disk, the whole store) can take a file, with its free space; and, when evidence lives
    in a bucket, the bucket answers (else a download would fail while this said "ok")."""
    staging = _staging_health()
    if not staging.reachable or settings.EVIDENCE_STORAGE["kind"] == "local":
        return staging
    try:
        bucket = evidence_store().health()
    except Exception as exc:  # a store that cannot even be built (a malformed endpoint, say) is down
        bucket = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    if bucket["ok"]:
        return staging
    return StoreHealth(reachable=False, free_bytes=staging.free_bytes, error=bucket["detail"])


def _staging_health() -> StoreHealth:
    """The local evidence folder: can a file be created in it, and how much room is left."""
    try:
        folder = evidence_dir()
        probe = folder / f"health-{uuid.uuid4().hex}.probe"
        probe.write_bytes(b"")
        probe.unlink()
        return StoreHealth(reachable=True, free_bytes=shutil.disk_usage(folder).free)
    except OSError as exc:
        return StoreHealth(reachable=False, error=f"{type(exc).__name__}: {exc.strerror or exc}")


class EvidenceUploadHandler(FileUploadHandler):
    """Streams each uploaded file through SHA-256 and AES-GCM into the evidence folder, chunk by chunk."""

    chunk_size = UPLOAD_CHUNK

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.UPLOAD_MAX_MB * 1024 * 1024
        self.received = 0
        self.too_large = False
        self.sealed: list[SealedUpload] = []
        self._writer: EncryptingWriter | None = None
        self._uploader = None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        with _counting_write_errors():
            self._writer = EncryptingWriter(str(evidence_dir() / f"incoming-{uuid.uuid4().hex}.cnev"))
        self._code = uuid.uuid4()
        self._uploader = evidence_store().streaming_upload(f"{self._code}.cnev", self._writer.path)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            self.discard()
            raise StopUpload(connection_reset=False)
        with _counting_write_errors():
            self._writer.write(raw_data)
        if self._uploader is not None:
            self._uploader.advance(self._writer.sealed_size())
        return None

    def file_complete(self, file_size):
        writer, self._writer = self._writer, None
        with _counting_write_errors():
            writer.close()
        sealed = SealedUpload(name=self.file_name or "upload", path=Path(writer.path), size=writer.size,
                              sha256=writer.sha256.hexdigest(), data_key=writer.data_key, code=self._code,
                              uploader=self._uploader, lease=writer.lease)
        self._uploader = None
        self.sealed.append(sealed)
        return sealed

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        """Deletes everything this request wrote: the file in progress and any finished ones."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        if self._uploader is not None:
            self._uploader.abort()
            self._uploader = None
        for sealed in self.sealed:
            sealed.close()
        self.sealed.clear()


class UploadIncomplete(Exception):
    """The body ended before, or went on after, the files it announced."""


SEAL_BATCH = 2 * UPLOAD_CHUNK
# Sealing runs off the event loop, so the next pieces arrive meanwhile; the SHA-256 and the encryption of a batch
# run side by side (hashlib lets go of the GIL). Each file has one batch under way at a time, which keeps its
# records in order.
_sealing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence-seal")


def _seal_last(writer: EncryptingWriter, data: bytes) -> None:
    writer.encrypt(data)
    writer.finish()


class _FileSealer:
    """One file of a streamed upload, sealed into the evidence folder batch by batch."""

    def __init__(self, name: str):
        self.name = name
        self.writer = EncryptingWriter(str(evidence_dir() / f"incoming-{uuid.uuid4().hex}.cnev"))
        self.code = uuid.uuid4()
        self.uploader = evidence_store().streaming_upload(f"{self.code}.cnev", self.writer.path)
        self.jobs = []  # the batch under way: its digest and its encryption
        self.batch = bytearray()

    async def feed(self, data) -> None:
        self.batch += data
        if len(self.batch) >= SEAL_BATCH:
            await _finished(self.jobs)
            if self.uploader is not None:  # what is sealed so far goes to the bucket while the rest arrives
                self.uploader.advance(self.writer.sealed_size())
            self.jobs = [_sealing.submit(self.writer.digest, self.batch),
                         _sealing.submit(self.writer.encrypt, self.batch)]
            self.batch = bytearray()

    async def finish(self) -> SealedUpload:
        writer = self.writer
        await _finished(self.jobs)
        self.jobs = [_sealing.submit(writer.digest, self.batch), _sealing.submit(_seal_last, writer, self.batch)]
        await _finished(self.jobs)
        upload = SealedUpload(name=self.name or "upload", path=Path(writer.path), size=writer.size,
                              sha256=writer.sha256.hexdigest(), data_key=writer.data_key, code=self.code,
                              uploader=self.uploader, lease=writer.lease)
        # PyAV probes what the OS already has while the disk catches up (fsync): neither waits for the other.
        self.jobs = [_sealing.submit(writer.close), _sealing.submit(upload.probe)]
        await _finished(self.jobs)
        return upload

    def discard(self) -> None:
        _discard(self.writer, self.jobs)
        if self.uploader is not None:
            self.uploader.abort()


async def uploads_receive(chunks: AsyncIterator[bytes], *, files: list[tuple[str, int]]) -> list[SealedUpload]:
    """Seals the files of a body that holds them one after another, (name, size) as announced, into the evidence
    folder as the pieces arrive: one pass, SHA-256 taken on the way. Nothing past the announced sizes is written
    (the caller holds them to the upload limit before it reads a byte): a body that ends before its files do, or
    goes on after them, is UploadIncomplete. Whatever stops the upload (that, a client gone: RequestAborted, the
    caller cancelled) leaves nothing behind."""
    sealed: list[SealedUpload] = []
    current: _FileSealer | None = None
    remaining = 0
    try:
        async for chunk in chunks:
            view = memoryview(chunk)
            while view:
                if current is None:
                    if len(sealed) == len(files):
                        raise UploadIncomplete()
                    current = _FileSealer(files[len(sealed)][0])
                    remaining = files[len(sealed)][1]
                piece, view = view[:remaining], view[remaining:]
                await current.feed(piece)
                remaining -= len(piece)
                if remaining == 0:
                    sealed.append(await current.finish())
                    current = None
        if len(sealed) != len(files):
            raise UploadIncomplete()
    except BaseException as exc:
        if isinstance(exc, OSError):  # the disk, not the client: full, gone, not writable
            evidence_store_error(Operation.WRITE, exc)
        _discard_all(current, sealed)
        raise
    return sealed


class _counting_write_errors:
    """Counts an OSError raised inside as a failed evidence write (and lets it go on)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if exc is not None and isinstance(exc, OSError):
            evidence_store_error(Operation.WRITE, exc)
        return False


def _discard_all(current: "_FileSealer | None", sealed: list[SealedUpload]) -> None:
    if current is not None:
        current.discard()
    for upload in sealed:
        upload.close()


async def _finished(jobs) -> None:
    for job in jobs:
        await asyncio.wrap_future(job)


def _discard(writer: EncryptingWriter, jobs) -> None:
    """Deletes the file once the jobs under way (which cannot be stopped) are over."""
    running = [job for job in jobs if not job.done()]
    if not running:
        writer.abort()
        return
    remaining = len(running)
    lock = threading.Lock()

    def one_done(_job) -> None:
        nonlocal remaining
        with lock:
            remaining -= 1
            last = remaining == 0
        if last:
            writer.abort()

    for job in running:
        job.add_done_callback(one_done)


@dataclass
class MediaInfo:
    media_format: str
    duration_s: float | None
    width: int | None
    height: int | None
    recorded_at: datetime | None


def media_probe(path: Path, data_key: bytes) -> MediaInfo:
    """What PyAV finds in the sealed file; NotMediaError unless a video or image frame decodes."""
    reader = DecryptingReader(str(path), data_key)
    try:
        with av.open(reader, mode="r") as container:
            if not container.streams.video:
                raise NotMediaError(_("it holds no video or image"))
            stream = container.streams.video[0]
            width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
            if width * height > MAX_PIXELS:  # decoding a 16k x 16k "photo" would take gigabytes
                raise NotMediaError(_("its frames are %(width)dx%(height)d, larger than any security camera records")
                                    % {"width": width, "height": height})
            next(container.decode(stream))  # a real frame, not just a plausible header
            duration = None
            if container.duration:
                duration = float(Fraction(container.duration, av.time_base))
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            created = container.metadata.get("creation_time") or stream.metadata.get("creation_time")
            recorded = parse_datetime(created) if created else None
            return MediaInfo(container.format.name[:64], duration, stream.codec_context.width,
                             stream.codec_context.height, recorded)
    except (av.FFmpegError, StopIteration, ValueError, UnicodeDecodeError) as exc:
        raise NotMediaError(_("it is not a video or image that can be played")) from exc
    except (EvidenceIntegrityError, OSError) as exc:
        evidence_store_error(Operation.READ, exc)
        raise NotMediaError(_("it could not be read back")) from exc
    finally:
        reader.close()
