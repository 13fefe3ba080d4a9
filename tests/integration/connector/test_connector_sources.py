"""The connector's sources (test pattern, video files, RTSP, MJPEG, snapshot URLs), frame encoding and the
bounded queue."""

import asyncio
import base64
import http.server
import io
import threading
import time

import av
import pytest
from connect_connector.frames import Frame, FrameQueue, encode_jpeg, qualities
from connect_connector.sources import AVSource, HTTPSource, PatternSource, SourceError, describe, open_source
from PIL import Image, ImageStat

from tests.conftest import free_port
from tests.integration.connector.connector_server import (
    LocalServer,
    jpeg_size,
    make_connector,
    receive_for,
    run_async,
    running,
    send,
)


def jpeg(size=(640, 480), colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


class Camera(http.server.BaseHTTPRequestHandler):
    """An IP camera's web server: MJPEG streams with and without part lengths, a snapshot URL, a snapshot
    behind a password, and a page that is not a picture."""

    snapshots = 0
    picture = jpeg()

    def do_GET(self):  # noqa: N802 - the http.server API
        if self.path.startswith("/stream"):
            return self.stream(lengths=self.path == "/stream.mjpg")
        if self.path == "/snap.jpg":
            Camera.snapshots += 1
            return self.reply("image/jpeg", self.picture)
        if self.path == "/private.jpg":
            expected = "Basic " + base64.b64encode(b"viewer:pa ss").decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.end_headers()
                return None
            return self.reply("image/jpeg", self.picture)
        return self.reply("text/html", b"<h1>Camera login</h1>")

    def reply(self, ctype, body):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, lengths: bool):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for _ in range(200):
                headers = b"--frame\r\nContent-Type: image/jpeg\r\n"
                if lengths:
                    headers += b"Content-Length: %d\r\n" % len(self.picture)
                self.wfile.write(headers + b"\r\n" + self.picture + b"\r\n")
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def camera_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def video_file(tmp_path):
    """Five grey pictures, each brighter than the last, 320x240 at 24 fps, a keyframe every other one."""
    path = tmp_path / "camera.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.gop_size = 2
        for level in (30, 80, 130, 180, 230):
            frame = av.VideoFrame(320, 240, "yuv420p")
            for plane, value in zip(frame.planes, (level, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def brightness(image: Image.Image) -> int:
    """The picture's grey level, as the luma it was encoded with (video luma runs from 16 to 235)."""
    return round(ImageStat.Stat(image.convert("L")).mean[0] * 219 / 255 + 16)


def test_a_video_file_loops_and_is_scaled_down_never_up(video_file):
    source = open_source(str(video_file))
    source.open()
    pictures = [source.grab(active=True, want=True, width=160) for _ in range(12)]
    assert {picture.size for picture in pictures} == {(160, 120)}
    levels = [brightness(picture) for picture in pictures]
    assert any(later < earlier - 100 for earlier, later in zip(levels, levels[1:], strict=False))  # from the start
    assert source.grab(active=True, want=True, width=1000).size == (320, 240)
    source.close()


def test_a_live_stream_is_not_decoded_while_nobody_watches(video_file):
    """The RTSP code path, fed from a file: idle grabs drop packets undecoded, the next picture waits for a
    keyframe, and the end of the stream is an error (a camera does not end)."""
    source = AVSource(str(video_file), live=True)
    source.open()  # decodes the first picture (30) to check the source
    assert source.grab(active=False, want=False, width=320) is None  # the packet of 80, dropped
    assert abs(brightness(source.grab(active=True, want=True, width=320)) - 130) <= 5  # the next keyframe
    assert abs(brightness(source.grab(active=True, want=True, width=320)) - 180) <= 5
    assert source.grab(active=True, want=False, width=320) is None  # 230, decoded but not wanted
    with pytest.raises(SourceError, match="the stream ended"):
        source.grab(active=True, want=True, width=320)
    source.close()


def test_a_video_file_streams_through_the_connector(video_file):
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, AVSource(str(video_file), live=False),
                                                                   fps=10, width=200)):
            ws = await server.next_connection()
            await send(ws, "start")
            frames, _ = await receive_for(ws, 1.0)
            return frames

    frames = run_async(scenario())
    assert len(frames) >= 7  # the file lasts 0.2 s: it played in a loop
    assert {jpeg_size(frame) for frame in frames} == {(200, 150)}


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "nope.mp4")).open()
    with pytest.raises(SourceError, match="not a file"):
        open_source(str(tmp_path)).open()
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(SourceError, match="cannot open"):
        open_source(str(tmp_path / "notes.txt")).open()


def test_an_unreachable_camera_is_named_without_its_password():
    port = free_port()
    with pytest.raises(SourceError) as rtsp:
        open_source(f"rtsp://viewer:hunter2@127.0.0.1:{port}/stream").open()
    with pytest.raises(SourceError) as web:
        open_source(f"http://viewer:hunter2@127.0.0.1:{port}/snap.jpg").open()
    assert str(rtsp.value).startswith(f"rtsp://viewer:***@127.0.0.1:{port}/stream: cannot open")
    assert "Connection refused" in str(rtsp.value)
    assert str(web.value).startswith(f"http://viewer:***@127.0.0.1:{port}/snap.jpg: cannot reach")
    assert "hunter2" not in str(rtsp.value) + str(web.value)


@pytest.mark.parametrize("path", ["/stream.mjpg", "/stream-without-lengths.mjpg"])
def test_an_mjpeg_stream_is_read_continuously_and_decoded_when_wanted(camera_url, path):
    source = open_source(camera_url + path)
    source.open()
    assert source.live
    assert source.grab(active=False, want=False, width=320) is None
    assert source.grab(active=True, want=True, width=320).size == (320, 240)
    assert source.grab(active=True, want=True, width=2000).size == (640, 480)
    source.close()


def test_a_snapshot_url_is_fetched_for_each_picture(camera_url):
    source = open_source(camera_url + "/snap.jpg")
    source.open()
    before = Camera.snapshots
    pictures = [source.grab(active=True, want=True, width=100) for _ in range(3)]
    assert not source.live
    assert Camera.snapshots == before + 3
    assert {picture.size for picture in pictures} == {(100, 75)}


def test_a_camera_password_is_sent_as_http_authentication(camera_url):
    host = camera_url.removeprefix("http://")
    source = HTTPSource(f"http://viewer:pa%20ss@{host}/private.jpg")
    source.open()
    assert source.grab(active=True, want=True, width=64).size == (64, 48)
    with pytest.raises(SourceError, match="HTTP 401.*check the user name and password") as wrong:
        HTTPSource(f"http://viewer:guess@{host}/private.jpg").open()
    assert "guess" not in str(wrong.value)


def test_a_web_page_is_not_a_source(camera_url):
    with pytest.raises(SourceError, match="text/html, not an MJPEG stream or a JPEG picture"):
        open_source(camera_url + "/").open()


@pytest.mark.parametrize("lavfi", [True, False])
def test_the_test_pattern_moves_and_needs_nothing(lavfi):
    source = PatternSource("motion", label="cam-1", use_lavfi=lavfi)
    source.open()
    first = source.grab(active=True, want=True, width=320)
    time.sleep(0.15)
    second = source.grab(active=True, want=True, width=320)
    assert first.size == second.size == (320, 180)
    assert first.tobytes() != second.tobytes()
    source.close()


def test_unknown_sources_are_refused():
    with pytest.raises(SourceError, match="unknown test pattern 'nope'; choose one of motion, bars, grid"):
        open_source("test:nope")
    with pytest.raises(SourceError, match="unsupported kind of source"):
        open_source("ftp://camera.local/video")


def test_describe_hides_passwords_and_secrets():
    assert describe("rtsp://admin:12345@10.0.0.5:554/h264") == "rtsp://admin:***@10.0.0.5:554/h264"
    assert describe("http://10.0.0.5/snap.cgi?user=admin&pwd=12345&ch=1") == \
        "http://10.0.0.5/snap.cgi?user=admin&pwd=***&ch=1"
    assert describe("rtsp://10.0.0.5/stream") == "rtsp://10.0.0.5/stream"
    assert describe("/srv/video/front door.mp4") == "/srv/video/front door.mp4"


def test_encoding_stays_within_the_byte_budget():
    noisy = Image.effect_noise((640, 360), 60).convert("RGB")
    assert qualities(70) == [70, 50, 30, 10]
    best = encode_jpeg(noisy, quality=90, max_bytes=10_000_000)
    squeezed = encode_jpeg(noisy, quality=90, max_bytes=len(best) // 2)
    assert len(squeezed) <= len(best) // 2
    assert encode_jpeg(noisy, quality=90, max_bytes=500) is None


def test_the_frame_queue_drops_the_oldest_frame():
    async def scenario():
        queue = FrameQueue(asyncio.get_running_loop())
        for i in range(5):
            queue.put(Frame(bytes([i])))
        return [await queue.get(), await queue.get()], len(queue), queue.dropped, queue.most

    frames, left, dropped, most = run_async(scenario())
    assert [frame.jpeg for frame in frames] == [b"\x03", b"\x04"]
    assert (left, dropped, most) == (0, 3, 2)
