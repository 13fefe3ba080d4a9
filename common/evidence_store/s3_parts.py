"""A sealed upload sent to the bucket while it arrives: the part of the staging file sealed so far goes up in
parts, one at a time on a thread of its own, so that when the last byte arrives only the last part is left.

The staging file (ciphertext) stays the source: a part is read back from it with pread, so the memory held is
one part whatever the speed of the bucket, and PyAV still probes the local file. Nothing is visible in the
bucket until `complete`; `abort` (a failed or abandoned upload) runs after any part still being sent and tells
the bucket to drop the parts.
"""

import os
from concurrent.futures import Future, ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from common.evidence_store.base import EvidenceStoreError


class StreamingPartUpload:
    def __init__(self, store, name: str, staged_path: str):
        self.store, self.name, self.path = store, name, staged_path
        self._key = store.key(name)
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._queued = 0  # bytes of the staging file sent as parts
        self._sealed = 0  # bytes of the staging file sealed and flushed, as last told
        self._error: EvidenceStoreError | None = None
        self._done = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-parts")
        self._pending: Future | None = None

    @property
    def sent_parts(self) -> int:
        return len(self._parts)

    def advance(self, sealed_size: int) -> None:
        """`sealed_size` bytes of the staging file are written and flushed: the sending thread sends every whole
        part among them. Never waits for the bucket: a slow one falls behind, and the file holds what it has
        not sent yet (memory stays one part)."""
        self._sealed = sealed_size
        if self._error is None and not self._done and (self._pending is None or self._pending.done()):
            self._pending = self._thread.submit(self._pump)

    def _pump(self) -> None:
        # Keep at least one byte back: the last part, sent by `complete`, may be short; a middle one may not.
        while self._error is None and not self._done and self._sealed - 1 - self._queued >= self.store.part_size:
            self._send_parts(self._queued, self._queued + self.store.part_size)
            self._queued += self.store.part_size

    def _send_parts(self, start: int, stop: int) -> None:
        if self._error is not None:
            return
        try:
            if self._upload_id is None:
                self._upload_id = self.store.client.create_multipart_upload(
                    Bucket=self.store.bucket, Key=self._key)["UploadId"]
            with open(self.path, "rb") as file:
                for offset in range(start, stop, self.store.part_size):
                    self._send_part(os.pread(file.fileno(), min(self.store.part_size, stop - offset), offset))
        except (BotoCoreError, ClientError, OSError) as exc:
            self._error = self.store.error(exc, f"storing {self.name}") if not isinstance(exc, OSError) else \
                EvidenceStoreError(f"the staged upload could not be read: {exc}")

    def _send_part(self, data: bytes) -> None:
        number = len(self._parts) + 1
        etag = self.store.client.upload_part(Bucket=self.store.bucket, Key=self._key, UploadId=self._upload_id,
                                             PartNumber=number, Body=data)["ETag"]
        self._parts.append({"ETag": etag, "PartNumber": number})

    def complete(self) -> None:
        """Sends what is left of the finished staging file and makes the object visible, or raises
        EvidenceStoreError with the upload aborted."""
        size = os.stat(self.path).st_size
        self._thread.submit(self._send_rest, size).result()
        if self._error is not None:
            self.abort()
            raise self._error
        self._done = True
        self._thread.shutdown(wait=False)

    def _send_rest(self, size: int) -> None:
        if self._error is not None:
            return
        if self._upload_id is None:  # small: never reached a part, one PUT
            try:
                with open(self.path, "rb") as file:
                    self.store.client.put_object(Bucket=self.store.bucket, Key=self._key, Body=file.read())
            except (BotoCoreError, ClientError) as exc:
                self._error = self.store.error(exc, f"storing {self.name}")
            return
        self._send_parts(self._queued, size)
        if self._error is None:
            try:
                self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=self._key,
                                                            UploadId=self._upload_id,
                                                            MultipartUpload={"Parts": self._parts})
            except (BotoCoreError, ClientError) as exc:
                self._error = self.store.error(exc, f"storing {self.name}")

    def abort(self) -> None:
        """Drops the upload after whatever is being sent; never raises, never waits."""
        if self._done:
            return
        self._done = True
        self._thread.submit(self._abort)
        self._thread.shutdown(wait=False)

    def _abort(self) -> None:
        if self._upload_id is not None:
            self.store._abort(self.name, self._upload_id)
