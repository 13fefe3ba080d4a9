"""What a clip is, by the container PyAV found at ingest (Clip.media_format), never by the name the owner gave it:
the type and file extension evidence is served with, and whether a browser may play it inline."""

from typing import NamedTuple


class Container(NamedTuple):
    content_type: str
    extension: str
    playable: bool  # a browser plays it inline


UNKNOWN = Container("application/octet-stream", "bin", False)

# PyAV's format names (AVInputFormat.name): one name may cover a family (mov,mp4,...), so the family's usual type.
CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": Container("video/mp4", "mp4", True),
    "matroska,webm": Container("video/webm", "webm", True),
    "avi": Container("video/x-msvideo", "avi", False),
    "asf": Container("video/x-ms-asf", "asf", False),
    "mpegts": Container("video/mp2t", "ts", False),
    "mpeg": Container("video/mpeg", "mpg", False),
    "flv": Container("video/x-flv", "flv", False),
    "h264": Container("video/h264", "h264", False),
    "hevc": Container("video/h265", "h265", False),
    "mjpeg": Container("video/x-motion-jpeg", "mjpeg", False),
    "jpeg_pipe": Container("image/jpeg", "jpg", True),
    "image2": Container("image/jpeg", "jpg", True),
    "png_pipe": Container("image/png", "png", True),
}


def container_of(media_format: str) -> Container:
    return CONTAINERS.get(media_format, UNKNOWN)
