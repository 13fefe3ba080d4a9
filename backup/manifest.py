"""A backup set's manifest: what the set holds (every part with its SHA-256 and size), the schema (applied
migrations), the ledger's head, the key material it depends on, and when it was made. It is signed with a key
derived from CONNECT_LEDGER_KEY, so a set edited by hand (a part swapped together with its hash) is refused."""

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings

FORMAT = "connect-backup/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
HASH_CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """A backup set that must not be restored here, and why (the message is for the operator)."""


@dataclass
class Part:
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    connect_version: str
    django_version: str
    postgres_version: str
    migrations: dict[str, list[str]]
    ledger_head: dict  # {"seq": int, "hash": str}
    keys: dict  # key service, current master key id, master key ids the clips need, shred key count
    parts: dict[str, Part] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        values = json.loads(data)
        if values.get("format") != FORMAT:
            raise BackupRefused(f"the manifest is not a {FORMAT} manifest (format {values.get('format')!r})")
        values["parts"] = {name: Part(**part) for name, part in values["parts"].items()}
        return cls(**values)


def _signing_key() -> bytes:
    return hmac.new(settings.LEDGER_KEY.encode(), b"connect-backup-manifest", hashlib.sha256).digest()


def sign(data: bytes) -> str:
    return hmac.new(_signing_key(), data, hashlib.sha256).hexdigest()


def write(folder: Path, manifest: Manifest) -> None:
    data = manifest.to_json()
    (folder / MANIFEST).write_bytes(data)
    (folder / SIGNATURE).write_text(sign(data) + "\n")


def read(folder: Path) -> Manifest:
    """The set's manifest, once its signature checks; BackupRefused otherwise."""
    if not folder.is_dir():
        raise BackupRefused(f"{folder} is not a backup set (no such folder)")
    try:
        data = (folder / MANIFEST).read_bytes()
        signature = (folder / SIGNATURE).read_text().strip()
    except FileNotFoundError as exc:
        raise BackupRefused(f"the backup set is missing its {Path(exc.filename).name}") from None
    if not hmac.compare_digest(signature, sign(data)):
        raise BackupRefused("the manifest's signature does not match: the set was altered, or it was made with "
                            "another CONNECT_LEDGER_KEY")
    try:
        return Manifest.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupRefused(f"the manifest cannot be read: {exc}") from None


def file_part(path: Path) -> Part:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Part(digest.hexdigest(), size)


def part_mismatch(name: str, found: Part, expected: Part) -> BackupRefused:
    return BackupRefused(f"the part {name} does not match the manifest (SHA-256 {found.sha256[:16]}…, "
                         f"{found.size} bytes; expected {expected.sha256[:16]}…, {expected.size} bytes)")


def parts_check(folder: Path, manifest: Manifest, *, hash_unless=None) -> None:
    """Every part present, of its size and hash; BackupRefused naming the first that is not. Parts for which
    `hash_unless(name)` is true are only checked for presence and size (their reader hashes them as it copies)."""
    for name, expected in sorted(manifest.parts.items()):
        path = folder / name
        if not path.is_file():
            raise BackupRefused(f"the backup set is missing its part {name}")
        if hash_unless is not None and hash_unless(name):
            found = Part(expected.sha256, path.stat().st_size)
        else:
            found = file_part(path)
        if found != expected:
            raise part_mismatch(name, found, expected)
