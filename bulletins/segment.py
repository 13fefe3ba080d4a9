"""Cuts a segment of an evidence clip and re-encodes it for a phone: H.264 video only (no sound: the owner shared
pictures), at most 640 px wide, an MP4 with its index first (faststart) so a phone starts playing at once.

Reads from a file object (requests_app's decrypting reader) and writes to memory: no plaintext touches the disk.
The camera's privacy masks are painted on every frame before it is encoded, as the live relay paints them."""

import io
from fractions import Fraction

import av

from integration.frames import masks_paint

WIDTH = 640
FPS_MAX = 15


class SegmentError(Exception):
    """The segment could not be made; the message says why in words a sender understands."""


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def transcode(source, *, in_s: float, out_s: float, masks: tuple = ()) -> bytes:
    """The MP4 bytes of [in_s, out_s) of the source's first video stream, each frame with `masks` (polygons in
    fractions of the picture, integration.frames.polygons_key) painted black. SegmentError when the source is not a
    video, is unreadable, or holds no picture in that span."""
    if not 0 <= in_s < out_s:
        raise SegmentError("The out point must come after the in point.")
    try:
        container = av.open(source, mode="r")
    except (av.FFmpegError, ValueError) as exc:
        raise SegmentError(f"The clip could not be read as video ({exc}).") from None
    with container:
        if not container.streams.video:
            raise SegmentError("The clip holds no video.")
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        return _encode(container, video, in_s, out_s, masks)


def _picture(frame, width: int, height: int, masks: tuple):
    """The frame at the segment's size, masked when the camera has masks (painted in RGB, then back to YUV)."""
    if not masks:
        return frame.reformat(width=width, height=height, format="yuv420p")
    image = masks_paint(frame.to_image(width=width, height=height), masks)
    return av.VideoFrame.from_image(image).reformat(format="yuv420p")


def _encode(container, video, in_s: float, out_s: float, masks: tuple) -> bytes:
    out = io.BytesIO()
    written = 0
    try:
        if in_s > 0 and video.time_base is not None:
            container.seek(int(in_s / video.time_base), stream=video, backward=True)
        with av.open(out, mode="w", format="mp4") as target:
            stream = None
            step = 1.0 / FPS_MAX
            next_t = in_s
            for frame in container.decode(video):
                if frame.time is None or frame.time < in_s:
                    continue
                if frame.time >= out_s:
                    break
                if frame.time + 1e-6 < next_t:  # phones need no more than FPS_MAX
                    continue
                next_t = frame.time + step
                if stream is None:
                    width = min(WIDTH, _even(frame.width))
                    stream = target.add_stream("libx264", rate=FPS_MAX)
                    stream.width, stream.height = width, _even(frame.height * width / frame.width)
                    stream.pix_fmt = "yuv420p"
                    stream.time_base = Fraction(1, 1000)
                    stream.options = {"preset": "veryfast", "crf": "28", "profile": "main"}
                picture = _picture(frame, stream.width, stream.height, masks)
                picture.pts = int(round((frame.time - in_s) * 1000))
                picture.time_base = Fraction(1, 1000)
                for packet in stream.encode(picture):
                    target.mux(packet)
                written += 1
            if stream is None:
                raise SegmentError(f"The clip holds no picture between {in_s:g} s and {out_s:g} s.")
            for packet in stream.encode():
                target.mux(packet)
    except SegmentError:
        raise
    except (av.FFmpegError, ValueError, EOFError) as exc:
        raise SegmentError(f"The clip could not be decoded ({type(exc).__name__}: {exc}).") from None
    return faststart(out.getvalue())


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _atoms(data: bytes, start: int = 0, end: int | None = None):
    """(type, offset, size) of each atom in data[start:end] (32-bit sizes: segments are small)."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size = int.from_bytes(data[at:at + 4], "big")
        if size < 8 or at + size > end:
            raise SegmentError("The re-encoded segment came out malformed.")
        yield bytes(data[at + 4:at + 8]), at, size
        at += size


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, by: int) -> None:
    for kind, at, size in _atoms(moov, start, end):
        if kind in _CONTAINERS:
            _shift_chunk_offsets(moov, at + 8, at + size, by)
        elif kind in (b"stco", b"co64"):
            width = 4 if kind == b"stco" else 8
            count = int.from_bytes(moov[at + 12:at + 16], "big")
            for i in range(count):
                pos = at + 16 + i * width
                value = int.from_bytes(moov[pos:pos + width], "big") + by
                moov[pos:pos + width] = value.to_bytes(width, "big")


def faststart(data: bytes) -> bytes:
    """Moves the index (moov) before the media (mdat), as ffmpeg's +faststart does, which needs a file on disk:
    the chunk offsets move by the index's size."""
    atoms = list(_atoms(data))
    kinds = [kind for kind, _at, _size in atoms]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return data
    _kind, moov_at, moov_size = atoms[kinds.index(b"moov")]
    moov = bytearray(data[moov_at:moov_at + moov_size])
    _shift_chunk_offsets(moov, 8, len(moov), moov_size)
    head = [data[at:at + size] for kind, at, size in atoms if kind in (b"ftyp",)]
    rest = [data[at:at + size] for kind, at, size in atoms if kind not in (b"ftyp", b"moov")]
    return b"".join([*head, bytes(moov), *rest])
