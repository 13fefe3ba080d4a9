"""The compose page's picker: a case's saved stills and clips the sender may read, listed into the ledger as every
evidence listing is; stills' thumbnails, each a checked and recorded read; and the camera's current privacy masks
painted on a still before it is shown or sent (integration's fill, as the live relay paints it)."""

import io
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from audit.actions import Action
from audit.ledger import entry, record_many
from integration import selectors as integration_selectors
from integration.frames import masks_paint, polygons_key
from requests_app import selectors as requests_selectors
from requests_app import services as requests_services
from requests_app.models import Clip

STILL_FORMATS = {"image2", "jpeg_pipe", "png_pipe", "webp_pipe", "mjpeg"}  # PyAV's names of a picture's container
MAX_LISTED = 100  # a case's newest; older ones can still be typed by code
THUMB_SIDE = 320
MAX_THUMB_SOURCE_BYTES = 16 * 1024 * 1024  # a phone's photo is a few MB; a larger "still" is not thumbnailed
VIA = "bulletin compose"


@dataclass(frozen=True)
class CaseMedia:
    """One still or clip as the picker shows it: never the owner's name or the file's original name."""

    code: str
    kind: str  # "still" or "clip"
    camera: str
    taken_at: datetime | None
    duration_s: float | None
    url: str  # a still's thumbnail, a clip's player source (requests_app's evidence path, answering ranges)

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.code}"


def is_still(clip: Clip) -> bool:
    return clip.media_format in STILL_FORMATS and not clip.duration_s


def case_media_listed(*, user, incident) -> list[CaseMedia]:
    """The case's stills and clips not purged, newest first, if the user may read the case's evidence; none
    otherwise (deny by default). The listing is one entry, and each item one entry its owner sees, as the API's and
    the admin's evidence lists record them."""
    if incident is None or not requests_selectors.can_view_incident(user, incident):
        return []
    clips = list(Clip.objects.filter(incident=incident, wrapped_key__isnull=False, purged_at__isnull=True)
                 .select_related("incident", "camera__owner", "request__camera__owner")
                 .order_by("-uploaded_at")[:MAX_LISTED])
    items, entries = [], [entry(actor=user, action=Action.CLIPS_LISTED, target_type="clip", via=VIA,
                                incident_code=incident.code, case_number=incident.case_number, results=len(clips))]
    for clip in clips:
        camera = requests_selectors.clip_camera(clip)
        still = is_still(clip)
        items.append(CaseMedia(
            code=str(clip.code), kind="still" if still else "clip", duration_s=None if still else clip.duration_s,
            camera=camera.label if camera else (clip.request.camera_label if clip.request_id else ""),
            taken_at=clip.recorded_at or clip.uploaded_at,
            url=(reverse("bulletins:still_thumb", args=[clip.code]) if still
                 else f"{reverse('requests_app:clip_download', args=[clip.code])}?inline=1")))
        entries.append(entry(actor=user, action=Action.CLIP_METADATA_VIEWED, target_type="clip", target_code=clip.code,
                             camera_code=camera.code if camera else "", owner_code=camera.owner.code if camera else "",
                             incident_code=incident.code, case_number=incident.case_number, via=VIA, listed=True))
    record_many(entries)
    return items


def camera_masks(camera) -> tuple:
    """The camera's current masks (the owner's and those held for a neighbour's concern), hashable."""
    return polygons_key(integration_selectors.masks_of(camera.pk)) if camera is not None else ()


def still_masked(data: bytes, masks: tuple) -> bytes:
    """The still as a JPEG with the masks painted black. A still taken from a live view was masked when taken;
    painting the current masks again also covers masks drawn since, and an owner's uploaded picture. A picture that
    cannot be read is refused (ValueError): an unmasked picture is never passed on."""
    if not masks and data.startswith(b"\xff\xd8\xff"):
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(gettext("The still could not be read as a picture.")) from exc
    out = io.BytesIO()
    masks_paint(picture, masks).save(out, format="JPEG", quality=85)
    return out.getvalue()


def still_thumbnail(*, user, code) -> bytes:
    """A small masked JPEG of a saved still of a case the user may read: read through requests_app's evidence access,
    which checks the case and records the view (PermissionDenied for anyone else, or for what is not a still)."""
    clip = Clip.objects.select_related("incident", "camera__owner", "request__camera__owner").filter(code=code).first()
    if clip is None or not is_still(clip) or clip.size > MAX_THUMB_SOURCE_BYTES:
        raise PermissionDenied("No such still.")
    stream = requests_services.clip_open(clip=clip, user=user, action=Action.CLIP_VIEWED, reason="bulletin picker")
    try:
        data = b"".join(stream)
    finally:
        stream.close()
    masked = still_masked(data, camera_masks(requests_selectors.clip_camera(clip)))
    with Image.open(io.BytesIO(masked)) as image:
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
