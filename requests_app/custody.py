"""The chain-of-custody report of one clip, as data: the admin page and its PDF both render this, so the printed
page and the downloaded file say the same thing in the same words."""

from dataclasses import dataclass
from datetime import datetime

from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from audit.actions import Action
from audit.selectors import entries_for_target
from audit.templatetags.program_time import program_time, program_time_zone
from requests_app import clip_types
from requests_app.models import Clip


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    verbatim: bool = False  # a hash or code, shown in full in a fixed-width font, wrapped anywhere


@dataclass(frozen=True)
class Access:
    at: str
    who: str
    action: str
    note: str


@dataclass(frozen=True)
class CustodyReport:
    title: str
    zone: str
    facts: list[Fact]
    verification: list[str]
    accesses: list[Access]
    printed: str


def human_size(size: int) -> str:
    """"12.4 MB (12,998,112 bytes)": the exact count stays, since a court compares it."""
    if size < 1024:
        return f"{size} bytes"
    return f"{filesizeformat(size)} ({size:,} bytes)".replace("\xa0", " ")


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "not stated"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    clock = f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"
    return f"{clock} ({seconds:,.1f} s)"


def human_format(media_format: str) -> str:
    """"MP4 (video/mp4)", by the container PyAV found, never by the owner's file name."""
    container = clip_types.container_of(media_format)
    if container is clip_types.UNKNOWN:
        return f"not one connect plays (read as “{media_format}”)"
    return f"{container.extension.upper()} ({container.content_type})"


def verification_statement(clip: Clip) -> list[str]:
    """What was verified, when and how: the checks docs/SECURITY.md describes, as recorded for this clip. The
    report itself re-hashes nothing; it says what the program checked and when."""
    if clip.purged_at:
        return [f"The clip was destroyed by retention (its key crypto-shredded) at {program_time(clip.purged_at)}; "
                "nothing is left to verify. The SHA-256 above is the one taken at upload."]
    lines = ["At upload, the SHA-256 of the whole file was computed as it arrived and was sealed "
             "(AES-256-GCM, 1 MiB records under the clip's own key)."]
    if clip.integrity_failed_at:
        lines.append(f"Integrity check FAILED at {program_time(clip.integrity_failed_at)}: the stored copy was "
                     "missing or did not match the SHA-256 above. The clip is flagged; the failure is recorded below "
                     "(clip.integrity_failed).")
        return lines
    if clip.verified_at:
        lines.append(f"Whole-file SHA-256 last checked against the store at {program_time(clip.verified_at)}: "
                     "read back from the evidence store, decrypted and found equal to the one taken at upload (by "
                     "the daily at-rest check, manage.py evidence_verify or a move between stores; recorded as "
                     "clip.verified below).")
    else:
        lines.append("Whole-file SHA-256 not yet re-checked at rest: the daily at-rest check comes round to it "
                     "(manage.py evidence_verify checks every clip at once).")
    lines += ["Every read (download or play) checks the stored size and authenticates each 1 MiB record (its "
              "AES-GCM tag, with its place in the file bound in) before any byte of it is sent.",
              "To check a copy: its SHA-256 (for example sha256sum) must equal the SHA-256 at upload above."]
    return lines


def redacted_copies(entries) -> list[Fact]:
    """Redacted copies made of the clip for a public-records release (records/), each a new file with its own
    SHA-256: linked here from the ledger entry that stored it, since requests_app does not import records."""
    return [Fact(f"Redacted copy made {program_time(e.at)}",
                 f"{e.detail.get('redacted_sha256', '')} (SHA-256; redaction {e.detail.get('redaction', '')}, "
                 f"release {e.detail.get('release', '')})", verbatim=True)
            for e in entries if e.action == Action.REDACTION_STORED]


def custody_report(*, clip: Clip, user, now: datetime | None = None, outside: bool = False) -> CustodyReport:
    """`outside`: for an outside agency (a prosecutor's case packet): no owner's words (the file name and the
    camera's label, which often carry a name) and no reasons given by others; the chain of who handled the clip and
    its hashes stay whole."""
    incident = clip.incident
    offense = f" ({incident.offense_type})" if incident.offense_type else ""
    answering = f" answering the request to “{clip.request.camera_label}”" if clip.request_id and not outside else ""
    resolution = f"{clip.width} × {clip.height} pixels" if clip.width and clip.height else "not stated"
    facts = [
        Fact("Case", f"{incident.case_number}{offense}"),
        Fact("Clip", str(clip.code), verbatim=True),
        Fact("Original file name", "withheld from outside agencies" if outside else clip.original_name),
        Fact("Format", human_format(clip.media_format)),
        Fact("Duration", human_duration(clip.duration_s)),
        Fact("Resolution", resolution),
        Fact("Recorded (file metadata)", program_time(clip.recorded_at) if clip.recorded_at else "not stated"),
        Fact("Size", human_size(clip.size)),
        Fact("SHA-256 at upload", clip.sha256, verbatim=True),
        Fact("Uploaded", f"{program_time(clip.uploaded_at)} by {clip.uploaded_by}{answering}"),
    ]
    if clip.legal_hold:
        facts.append(Fact("Legal hold", clip.legal_hold_reason or "yes"))
    entries = list(entries_for_target(target_type="clip", target_code=clip.code))
    facts += redacted_copies(entries)
    accesses = [Access(program_time(e.at), e.actor_label, e.action, "" if outside else e.reason) for e in entries]
    title = f"Chain of custody: clip {clip.code}" if outside else f"Chain of custody: {clip.original_name}"
    return CustodyReport(title=title, zone=program_time_zone(), facts=facts,
                         verification=verification_statement(clip), accesses=accesses,
                         printed=f"{program_time(now or timezone.now())} by {user.get_username()}")
