"""Evidence in an S3-compatible bucket (AWS S3, MinIO, Ceph, a gateway), through boto3.

Objects are connect's sealed files, byte for byte: the envelope stays, plaintext never leaves the process, and
no server-side encryption is asked for or relied upon. Large files go up in parts (multipart upload), so a cut
connection costs one part and an abandoned upload is aborted, never completed half-way: until
CompleteMultipartUpload nothing is visible under the name.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from common.evidence_store.base import EvidenceMissing, EvidenceStoreError

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
READ_PIECE = 1024 * 1024 + 16  # one sealed record (common/sealed.py RECORD): urllib3 returns whole reads
HEAD_PREFETCH = 64  # the envelope's header and then some, fetched with the size in one request
HEADS_KEPT = 1024  # objects whose size and header each process remembers (Heads): a few hundred KiB
HEALTH_TIMEOUT_S = 3  # health(): connect and read, one attempt


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return str(exc) or type(exc).__name__


def _missing(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
        "404", "NoSuchKey", "NotFound"}


class S3Object:
    """One object opened for reading. `from_start`: the caller reads it from its first byte on, in order (a whole
    download, a check, a copy): one GET of the whole object then serves every read that continues where the last
    one stopped, so the first byte waits for one request, not two. Otherwise the size and the first bytes come in
    one small ranged GET, and each range is a GET of its own."""

    def __init__(self, store: "S3Store", name: str, *, from_start: bool = False):
        self._store, self._key = store, store.key(name)
        self.name = name
        self._stream = None  # the whole object's body while reads follow one another from its start
        self._position = 0  # where the stream is
        if from_start:
            self._open_stream()
            return
        known = store.heads.get(name)
        if known is not None:  # a player's seeks: each is one GET, the records'
            self.size, self._head = known
            return
        try:  # the size and the first bytes in one request (a Range GET names the total in Content-Range)
            response = store.client.get_object(Bucket=store.bucket, Key=self._key, Range=f"bytes=0-{HEAD_PREFETCH - 1}")
            self._head = response["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "InvalidRange":
                self._head, self.size = b"", 0  # an empty object: the reader reports it truncated
                return
            raise store.error(exc, f"reading {name}") from None
        total = (response.get("ContentRange") or "").rpartition("/")[2]
        self.size = int(total) if total.isdigit() else response["ContentLength"]
        store.heads.put(name, self.size, self._head)

    def _open_stream(self) -> None:
        try:
            response = self._store.client.get_object(Bucket=self._store.bucket, Key=self._key)
        except (BotoCoreError, ClientError) as exc:
            raise self._store.error(exc, f"reading {self.name}") from None
        self._stream, self._head, self.size = response["Body"], b"", response["ContentLength"]

    def _stream_read(self, length: int) -> bytes:
        try:
            piece = self._stream.read(length)
        except (BotoCoreError, ClientError) as exc:
            self._stream_close()
            raise self._store.error(exc, f"reading {self.name}") from None
        self._position += len(piece)
        return piece

    def _stream_close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        if self._stream is not None and offset == self._position:
            piece = self._stream_read(min(length, self.size - offset))
            if offset == 0:
                self._store.heads.put(self.name, self.size, piece)
            return piece
        if offset + length <= len(self._head):
            return self._head[offset:offset + length]
        return b"".join(self.iter_range(offset, min(self.size, offset + length)))

    def iter_range(self, offset: int, end: int) -> Iterator[bytes]:
        if offset >= end:
            return
        if self._stream is not None and offset == self._position:
            while self._position < end:
                piece = self._stream_read(min(READ_PIECE, end - self._position))
                if not piece:
                    return  # shorter than its size said: the reader's layout check reports it
                yield piece
            return
        self._stream_close()  # a read elsewhere: the stream is of no more use
        try:
            body = self._store.client.get_object(Bucket=self._store.bucket, Key=self._key,
                                                 Range=f"bytes={offset}-{end - 1}")["Body"]
            try:
                yield from body.iter_chunks(chunk_size=READ_PIECE)
            finally:
                body.close()
        except (BotoCoreError, ClientError) as exc:
            raise self._store.error(exc, f"reading {self.name}") from None

    def close(self) -> None:
        self._stream_close()


class Heads:
    """The size and first bytes (the envelope's header) of objects read lately, so that each seek of a player is one
    GET instead of two. Objects are written once and never changed, so an entry stays true until the object is
    deleted (dropped here then). Were an object replaced behind connect's back, its records would not authenticate
    under the remembered header, nor would a shortened one's under its remembered size: the read fails as altered
    evidence, as it should. Whole reads (`from_start`) never use it."""

    def __init__(self, limit: int = HEADS_KEPT):
        self._limit, self._entries, self._lock = limit, OrderedDict(), threading.Lock()

    def get(self, name: str) -> tuple[int, bytes] | None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                self._entries.move_to_end(name)
            return entry

    def put(self, name: str, size: int, head: bytes) -> None:
        if size <= 0 or not head:
            return
        with self._lock:
            self._entries[name] = (size, head)
            self._entries.move_to_end(name)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def drop(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)


class S3Store:
    name = "s3"

    def __init__(self, *, bucket: str, prefix: str, endpoint_url: str, region: str, access_key_id: str,
                 secret_access_key: str, path_style: bool, timeout_s: int, part_mb: int):
        self.bucket, self.prefix = bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = max(MIN_PART, part_mb * 1024 * 1024)
        credentials = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key} \
            if access_key_id else {}  # none: boto3's own chain (instance role, ~/.aws, AWS_* variables)
        # A slow or unreachable bucket fails after the timeout with a message, instead of hanging a request.
        config = Config(region_name=region or None, connect_timeout=timeout_s, read_timeout=timeout_s,
                        retries={"max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": "path" if path_style else "auto"},
                        # Checksums only where S3 requires them: MinIO, Ceph and moto differ on the newer ones.
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config,
                                                     **credentials)
        # health(): one try within a few seconds, so /healthz answers while the bucket does not (a load balancer or
        # Prometheus waiting out three 30 s attempts would call the whole site down for the wrong reason).
        probe_s = min(timeout_s, HEALTH_TIMEOUT_S)
        self.probe = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config.merge(
            Config(connect_timeout=probe_s, read_timeout=probe_s, retries={"max_attempts": 1})), **credentials)
        self.heads = Heads()

    def key(self, name: str) -> str:
        return self.prefix + name

    def error(self, exc: Exception, doing: str) -> EvidenceStoreError:
        if _missing(exc):
            return EvidenceMissing(f"the evidence object {doing.split()[-1]} is missing from the bucket")
        return EvidenceStoreError(f"the evidence bucket {self.bucket} failed {doing}: {_reason(exc)}")

    def open(self, name: str, *, from_start: bool = False) -> S3Object:
        return S3Object(self, name, from_start=from_start)

    def adopt(self, staged: Path, name: str) -> None:
        self.upload(staged, name)
        staged.unlink(missing_ok=True)

    def upload(self, path: Path, name: str) -> None:
        """A copy of the sealed file at `path` under `name`: in parts when large, visible only once complete."""
        self.heads.drop(name)
        size = path.stat().st_size
        try:
            with open(path, "rb") as file:
                if size <= self.part_size:
                    self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=file.read())
                else:
                    self._multipart(file, name)
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, f"storing {name}") from None

    def object_size(self, name: str) -> int | None:
        """The stored object's size, None when there is none."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(name))["ContentLength"]
        except (BotoCoreError, ClientError) as exc:
            if _missing(exc):
                return None
            raise self.error(exc, f"reading {name}") from None

    def streaming_upload(self, name: str, staged_path: str):
        """A StreamingPartUpload of `name` fed from the staging file while it is being sealed."""
        from common.evidence_store.s3_parts import StreamingPartUpload

        self.heads.drop(name)
        return StreamingPartUpload(self, name, staged_path)

    def _multipart(self, file, name: str) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key(name))["UploadId"]
        try:
            parts = []
            while piece := file.read(self.part_size):
                number = len(parts) + 1
                etag = self.client.upload_part(Bucket=self.bucket, Key=self.key(name), UploadId=upload,
                                               PartNumber=number, Body=piece)["ETag"]
                parts.append({"ETag": etag, "PartNumber": number})
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key(name), UploadId=upload,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort(name, upload)
            raise

    def _abort(self, name: str, upload: str) -> None:
        """Best effort: a bucket that is gone cannot be told; its lifecycle rule for incomplete uploads (see
        docs/SECURITY.md, Deploying safely) removes the parts, and none of them is ever visible as an object."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key(name), UploadId=upload)
        except (BotoCoreError, ClientError):
            pass

    def incomplete_uploads(self) -> list[str]:
        """Names with a multipart upload started and neither completed nor aborted."""
        try:
            response = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "listing uploads") from None
        return [upload["Key"][len(self.prefix):] for upload in response.get("Uploads", [])]

    def delete(self, name: str) -> None:
        self.heads.drop(name)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))
        except (BotoCoreError, ClientError) as exc:
            if not _missing(exc):
                raise self.error(exc, f"deleting {name}") from None

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except (BotoCoreError, ClientError) as exc:
            if _missing(exc):
                return False
            raise self.error(exc, f"reading {name}") from None
        return True

    def names(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):]
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "listing") from None

    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):], item["LastModified"]
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "listing") from None

    def abandoned_uploads_abort(self, older_than: datetime) -> int:
        aborted = 0
        try:
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < older_than:
                        self._abort(upload["Key"][len(self.prefix):], upload["UploadId"])
                        aborted += 1
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "listing uploads") from None
        return aborted

    def health(self) -> dict:
        try:
            self.probe.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            return {"ok": False, "store": self.name, "free_bytes": None,
                    "detail": f"bucket {self.bucket}: {_reason(exc)}"}
        return {"ok": True, "store": self.name, "free_bytes": None,  # buckets have no free space to report
                "detail": f"bucket {self.bucket}"}
