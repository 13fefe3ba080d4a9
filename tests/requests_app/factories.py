from datetime import timedelta

import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from requests_app.models import Incident


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    case_number = factory.Sequence(lambda n: f"26-{n:06d}")
    offense_type = "Burglary"
    location = factory.LazyFunction(lambda: Point(-78.6382, 35.7796, srid=4326))
    address = "200 Fayetteville St"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=5))
    ends_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    radius_m = 300
    owner_summary = "A car was broken into on this block on Tuesday evening."
    internal_notes = "Suspect: SECRET-NOTE tall male, red hoodie"


def sealed_clip(incident, plaintext: bytes, *, name: str = "big.mp4"):
    """A clip of any size sealed straight into the configured evidence store (no upload, no probe): for reading
    back large or random content."""
    import hashlib
    import uuid

    from common import sealed
    from common.evidence_store import evidence_store
    from requests_app import evidence_keys
    from requests_app.evidence import evidence_dir
    from requests_app.models import Clip

    code = uuid.uuid4()
    staged = evidence_dir() / f"incoming-{code.hex}.cnev"
    writer = sealed.EncryptingWriter(str(staged))
    writer.write(plaintext)
    writer.close()
    evidence_store().adopt(staged, f"{code}.cnev")
    clip = Clip(code=code, incident=incident, original_name=name, media_format="mov,mp4", size=len(plaintext),
                sha256=hashlib.sha256(plaintext).hexdigest(), stored_name=f"{code}.cnev", keep_days_after_close=90,
                uploaded_by="owner")
    evidence_keys.clip_key_seal(clip, writer.data_key)  # under a shred key, as an upload's
    clip.save()
    return clip
