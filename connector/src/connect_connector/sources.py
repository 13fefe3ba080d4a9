"""Where frames come from: the built-in test pattern, video files and RTSP cameras (PyAV), MJPEG streams and
JPEG snapshot URLs (HTTP).

Every source has the same small interface, used by the capture thread in ``capture.py``:

- ``open()`` connects and reads one picture, so a bad ``--source`` fails at start-up with a clear message;
- ``grab(active=, want=, width=)`` returns a Pillow image no wider than ``width`` when ``want`` is true;
- ``close()``.

A *live* source (RTSP, MJPEG) runs at the camera's pace: the capture thread reads it all the time, and
``want`` says whether this picture is needed. When nobody watches (``active`` false) it only pulls the
compressed data off the connection and throws it away, so the camera's session stays open and a viewer
gets a picture within one keyframe, but nothing is decoded. A *paced* source (test pattern, file, snapshot
URL) is read only when a picture is needed, and not at all when nobody watches.

Errors are ``SourceError`` with a message meant for the person who set the connector up, and say what waiting
can do: ``BadSource`` (no such file, an unknown kind of source) never heals, so the program refuses it at
start-up; ``AccessRefused`` (the camera refused the user name or password) is tried again only rarely, because
cameras lock an account after a few failed sign-ins; any other failure (camera off, network down, a reboot) is
tried again with a short backoff. Messages never contain a password from the source URL (see ``describe``).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0  # connecting to a camera and waiting for its next picture
MAX_PART_BYTES = 20 * 1024 * 1024  # an MJPEG part or snapshot larger than this is not a camera picture
TEST_PATTERNS = {"motion": "testsrc2", "bars": "smptehdbars", "grid": "testsrc"}
_SENSITIVE_QUERY = re.compile(r"pass|pwd|token|key|auth|sig|secret", re.IGNORECASE)


class SourceError(Exception):
    """The source cannot be opened or stopped delivering pictures; trying again later may work."""


class BadSource(SourceError):
    """The source as given can never work (no such file, an unsupported kind of source): fix the setting."""


class AccessRefused(SourceError):
    """The camera refused the user name or password in the source URL."""


def describe(spec: str) -> str:
    """The source as it may appear in logs and status messages: passwords and secret-looking query values
    replaced by ``***``."""
    parts = urllib.parse.urlsplit(spec)
    if not parts.scheme or not parts.netloc:
        return spec
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(
        f"{key}=***" if _SENSITIVE_QUERY.search(key) else f"{key}={value}" if value else key
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def fit(size: tuple[int, int], width: int) -> tuple[int, int]:
    """The size to scale a picture of ``size`` to: at most ``width`` wide, same aspect, never larger."""
    w, h = size
    if w <= width:
        return w, h
    return width, max(1, round(h * width / w))


def scale(image: Image.Image, width: int) -> Image.Image:
    target = fit(image.size, width)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return image if target == image.size else image.resize(target, Image.Resampling.BILINEAR)


def open_source(spec: str, *, camera: str = "") -> Source:
    """The source named by ``--source``, not yet opened."""
    if spec == "test" or spec.startswith("test:"):
        name = spec.partition(":")[2] or "motion"
        if name not in TEST_PATTERNS:
            raise BadSource(f"unknown test pattern {name!r}; choose one of {', '.join(TEST_PATTERNS)}")
        return PatternSource(name, label=camera)
    scheme = urllib.parse.urlsplit(spec).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return AVSource(spec, live=True)
    if scheme in ("http", "https"):
        return HTTPSource(spec)
    if len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise BadSource(f"{describe(spec)}: unsupported kind of source; use test, rtsp://, http(s):// or a file")
    return AVSource(spec, live=False)


class Source:
    live = False

    def __init__(self, spec: str):
        self.spec = spec
        self.label = describe(spec)

    def open(self) -> None:
        raise NotImplementedError

    def grab(self, *, active: bool, want: bool, width: int) -> Image.Image | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _fail(self, what: str, exc: BaseException | None = None, kind: type[SourceError] = SourceError) -> SourceError:
        reason = ""
        if exc is not None:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            reason = ": " + str(reason).replace(self.spec, self.label)
        return kind(f"{self.label}: {what}{reason}")


class PatternSource(Source):
    """A moving picture that needs no camera, network or file: FFmpeg's test sources (``lavfi``) when this
    PyAV build has them, otherwise colour bars drawn with Pillow; either way with a moving box, the camera
    code and the UTC time drawn on top."""

    SIZE = (1280, 720)

    def __init__(self, name: str = "motion", *, label: str = "", use_lavfi: bool | None = None):
        super().__init__(f"test:{name}")
        self.name = name
        self.text = label
        self.use_lavfi = ("lavfi" in av.formats_available) if use_lavfi is None else use_lavfi
        self._container = None
        self._frames = None
        self._bars: Image.Image | None = None
        self._started = time.monotonic()

    def open(self) -> None:
        if self.use_lavfi:
            w, h = self.SIZE
            try:
                self._container = av.open(f"{TEST_PATTERNS[self.name]}=size={w}x{h}:rate=30", format="lavfi")
                self._frames = self._container.decode(video=0)
            except av.FFmpegError:
                log.debug("lavfi test source unavailable, drawing the pattern with Pillow", exc_info=True)
                self.use_lavfi = False
        self.grab(active=True, want=True, width=64)

    def grab(self, *, active: bool, want: bool, width: int) -> Image.Image | None:
        if not want:
            return None
        if self.use_lavfi:
            frame = next(self._frames)
            w, h = fit((frame.width, frame.height), width)
            image = frame.to_image(width=w, height=h)
        else:
            image = self._pillow_bars(fit(self.SIZE, width))
        return self._overlay(image)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = self._frames = None

    def _pillow_bars(self, size: tuple[int, int]) -> Image.Image:
        if self._bars is None or self._bars.size != size:
            colours = ["#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0"]
            bars = Image.new("RGB", size)
            draw = ImageDraw.Draw(bars)
            step = size[0] / len(colours)
            for i, colour in enumerate(colours):
                draw.rectangle((round(i * step), 0, round((i + 1) * step), size[1]), fill=colour)
            self._bars = bars
        return self._bars.copy()

    def _overlay(self, image: Image.Image) -> Image.Image:
        w, h = image.size
        draw = ImageDraw.Draw(image)
        box = max(4, h // 6)
        travel = max(1, w - box)
        x = int((time.monotonic() - self._started) * w / 4) % (2 * travel)
        x = x if x < travel else 2 * travel - x
        draw.rectangle((x, h - box - h // 10, x + box, h - h // 10), fill="white", outline="black")
        font = _font(max(8, h // 14))
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-5] + " UTC"
        margin = max(2, h // 40)
        for i, text in enumerate(t for t in (self.text, now) if t):
            draw.text((margin, margin + i * (h // 12)), text, fill="white", font=font, stroke_width=2,
                      stroke_fill="black")
        return image


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


class AVSource(Source):
    """A video file (played in real time, looping at the end) or an RTSP camera (over TCP, with a timeout),
    read with PyAV."""

    MAX_BAD_PACKETS = 100  # in a row, before an RTSP stream counts as broken

    def __init__(self, spec: str, *, live: bool, timeout: float = TIMEOUT_S):
        super().__init__(spec)
        self.live = live
        self.timeout = timeout
        self._container = None
        self._stream = None
        self._packets = None
        self._need_keyframe = False
        self._bad_packets = 0
        self._media_target: float | None = None  # files: the media time the next picture should show
        self._loop_offset = 0.0  # files: media time of the loops already played
        self._last_playtime = 0.0
        self._last_grab = 0.0

    def open(self) -> None:
        if not self.live:
            path = Path(self.spec)
            if not path.exists():
                raise BadSource(f"{self.spec}: no such file")
            if not path.is_file():
                raise BadSource(f"{self.spec}: not a file")
        options = {"rtsp_transport": "tcp"} if self.live else {}
        try:
            self._container = av.open(self.spec, options=options, timeout=(self.timeout, self.timeout))
        except (av.HTTPUnauthorizedError, av.HTTPForbiddenError) as exc:
            raise self._fail("the camera refused the user name or password (check them in the source address)",
                              exc, AccessRefused) from None
        except av.HTTPNotFoundError as exc:
            raise self._fail("the camera has no stream at this path (check the path in the source address)",
                              exc) from None
        except (av.FFmpegError, OSError) as exc:
            hint = " (is the camera on, and are the address, port, path and password right?)" if self.live else ""
            raise self._fail(f"cannot open{hint}", exc) from None
        if not self._container.streams.video:
            self.close()
            raise SourceError(f"{self.label}: has no video stream")
        self._stream = self._container.streams.video[0]
        if not self.live:
            self._stream.thread_type = "AUTO"  # frame threads: faster, but a few frames late, so files only
        self._packets = self._container.demux(self._stream)
        self._need_keyframe = self.live
        if self._next_frame() is None:
            self.close()
            raise SourceError(f"{self.label}: no picture could be decoded")

    def close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except av.FFmpegError:
                pass
        self._container = self._stream = self._packets = None

    def grab(self, *, active: bool, want: bool, width: int) -> Image.Image | None:
        if self._container is None:
            raise SourceError(f"{self.label}: not open")
        if self.live:
            frame = self._grab_live(active=active)
        else:
            frame = self._grab_file()
        if frame is None or not want:
            return None
        w, h = fit((frame.width, frame.height), width)
        return frame.to_image(width=w, height=h)

    def _grab_live(self, *, active: bool):
        if not active:
            # Nobody is watching: take the compressed packet off the connection and drop it, undecoded.
            if self._next_packet() is None:
                raise SourceError(f"{self.label}: the stream ended")
            self._need_keyframe = True
            return None
        return self._next_frame()

    def _grab_file(self):
        now = time.monotonic()
        frame = self._next_frame()
        if self._media_target is None:
            self._media_target = self._playtime(frame) or 0.0
        else:
            # Play at the file's own speed: skip the pictures that belong between two grabs (a pause while
            # nobody watched counts as at most one second).
            self._media_target += min(now - self._last_grab, 1.0)
            while frame is not None and (self._playtime(frame) or self._media_target) < self._media_target:
                later = self._next_frame()
                if later is None:
                    break
                frame = later
        self._last_grab = now
        return frame

    def _playtime(self, frame) -> float | None:
        """Media time that keeps growing across loops of the file."""
        if frame is None or frame.time is None:
            return None
        return frame.time + self._loop_offset

    def _next_packet(self):
        try:
            packet = next(self._packets)
        except StopIteration:
            return None
        except (av.FFmpegError, OSError) as exc:
            raise self._fail("stopped delivering video", exc) from None
        return packet

    def _next_frame(self):
        """The next decoded picture; files start again at the end; None only if a file has no picture."""
        rewound = False
        while True:
            packet = self._next_packet()
            if packet is None:
                if self.live:
                    raise SourceError(f"{self.label}: the stream ended")
                if rewound:
                    return None
                self._rewind()
                rewound = True
                continue
            if self._need_keyframe:
                if not packet.is_keyframe:
                    continue
                self._stream.codec_context.flush_buffers()
                self._need_keyframe = False
            try:
                frames = self._stream.codec_context.decode(packet)
            except av.InvalidDataError:
                self._bad_packets += 1
                if self._bad_packets > self.MAX_BAD_PACKETS:
                    raise SourceError(f"{self.label}: the video cannot be decoded") from None
                continue
            self._bad_packets = 0
            if frames:
                self._last_playtime = self._playtime(frames[-1]) or self._last_playtime
                return frames[-1]

    def _rewind(self) -> None:
        rate = self._stream.average_rate or self._stream.guessed_rate or 25
        self._loop_offset = self._last_playtime + 1 / float(rate)
        try:
            self._container.seek(0)
            self._stream.codec_context.flush_buffers()
            self._packets = self._container.demux(self._stream)
        except av.FFmpegError:
            self.close()
            self.open()


class HTTPSource(Source):
    """An MJPEG stream (``multipart/x-mixed-replace``, read continuously) or a JPEG snapshot URL (fetched
    each time a picture is needed). A user name and password in the URL are sent with HTTP basic or digest
    authentication, never as part of the request line."""

    def __init__(self, spec: str, *, timeout: float = TIMEOUT_S):
        super().__init__(spec)
        self.timeout = timeout
        parts = urllib.parse.urlsplit(spec)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        self._url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        handlers = []
        if parts.username is not None:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            user, password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
            passwords.add_password(None, self._url, user, password)
            handlers += [urllib.request.HTTPBasicAuthHandler(passwords),
                         urllib.request.HTTPDigestAuthHandler(passwords)]
        self._opener = urllib.request.build_opener(*handlers)
        self._stream: _MultipartReader | None = None

    def open(self) -> None:
        response = self._request()
        ctype = response.headers.get_content_type()
        if ctype == "multipart/x-mixed-replace":
            self.live = True
            boundary = response.headers.get_param("boundary")
            self._stream = _MultipartReader(response, boundary)
            data = self._read_part()
        elif ctype.startswith("image/"):
            self.live = False
            with response:
                data = response.read(MAX_PART_BYTES + 1)
        else:
            response.close()
            raise SourceError(f"{self.label}: answered with {ctype}, not an MJPEG stream or a JPEG picture")
        self._decode(data, 64)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def grab(self, *, active: bool, want: bool, width: int) -> Image.Image | None:
        if not self.live:
            with self._request() as response:
                return self._decode(response.read(MAX_PART_BYTES + 1), width)
        if self._stream is None:
            raise SourceError(f"{self.label}: not open")
        data = self._read_part()  # always read, so the stream stays current; decode only what is wanted
        return self._decode(data, width) if want else None

    def _request(self):
        request = urllib.request.Request(self._url, headers={"User-Agent": "connect-connector"})
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (401, 403):
                raise AccessRefused(f"{self.label}: the camera answered HTTP {exc.code} {exc.reason} (check the user "
                                    "name and password in the source address)") from None
            raise SourceError(f"{self.label}: the camera answered HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail("cannot reach", exc) from None

    def _read_part(self) -> bytes:
        try:
            return self._stream.next_part()
        except (OSError, ValueError) as exc:
            raise self._fail("the MJPEG stream broke off", exc) from None

    def _decode(self, data: bytes, width: int) -> Image.Image:
        if len(data) > MAX_PART_BYTES:
            raise SourceError(f"{self.label}: a picture larger than {MAX_PART_BYTES} bytes")
        try:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", fit(image.size, width))  # JPEG: decode at 1/2, 1/4 or 1/8 size when it can
            return scale(image, width)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise self._fail("sent something that is not a picture", exc) from None


class _MultipartReader:
    """Reads the parts of a ``multipart/x-mixed-replace`` body one at a time. Uses each part's
    Content-Length when the camera sends one, otherwise reads up to the next boundary."""

    def __init__(self, response, boundary: str | None):
        self.response = response
        self.boundary = ("--" + (boundary or "").strip('"').removeprefix("--")).encode() if boundary else None
        self._at_headers = False  # True when the boundary line of the next part was already consumed

    def close(self) -> None:
        self.response.close()

    def _line(self) -> bytes:
        line = self.response.readline(64 * 1024)
        if not line:
            raise EOFError("the camera closed the stream")
        return line

    def next_part(self) -> bytes:
        try:
            return self._next_part()
        except EOFError as exc:
            raise OSError(str(exc)) from None

    def _next_part(self) -> bytes:
        if not self._at_headers:
            while True:  # skip the preamble or the end of the previous part, up to a boundary line
                line = self._line().strip()
                if line and (self.boundary is None and line.startswith(b"--") or line == self.boundary):
                    if self.boundary is None:
                        self.boundary = line
                    break
        self._at_headers = False
        length = None
        while True:
            line = self._line().strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is not None:
            if length > MAX_PART_BYTES:
                raise ValueError(f"a part of {length} bytes")
            data = self.response.read(length)
            if len(data) < length:
                raise OSError("the camera closed the stream")
            return data
        chunks, size = [], 0
        while True:
            line = self._line()
            if line.rstrip(b"\r\n") == self.boundary:
                self._at_headers = True
                break
            chunks.append(line)
            size += len(line)
            if size > MAX_PART_BYTES:
                raise ValueError("a part without an end")
        data = b"".join(chunks)
        return data[:-2] if data.endswith(b"\r\n") else data.removesuffix(b"\n")
