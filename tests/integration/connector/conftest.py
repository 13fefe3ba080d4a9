"""The connector as an owner installs it (its own package in a fresh virtualenv, nothing else of connect), and
an IP camera to read: GStreamer's RTSP server, a real process on a free port."""

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "connector"
CAMERA_SCRIPT = Path(__file__).with_name("rtsp_camera.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-gi; the project's virtualenv has no GObject bindings
GSTREAMER_PACKAGES = ("python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good "
                      "gstreamer1.0-plugins-ugly")
GSTREAMER_PROBE = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in ("videotestsrc", "x264enc", "rtph264pay") if Gst.ElementFactory.find(name) is None]
print(" ".join(missing))
"""


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def installed_connector(tmp_path_factory) -> Path:
    """``connect-connector`` installed from connector/ alone into a virtualenv of its own, as ``pip install`` or
    ``pipx`` does on an owner's computer: only the package's declared dependencies come along (at the versions
    of requirements/test.lock, which pip has cached)."""
    base = tmp_path_factory.mktemp("owner-computer")
    source = base / "connector"  # a copy, as an IT person downloads it; building leaves build/ behind
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The lock's pins without its hashes: pip takes no hashes in a constraints file.
    pins = [line.split(" ")[0] for line in (ROOT / "requirements" / "test.lock").read_text().splitlines()
            if "==" in line and not line.startswith((" ", "#"))]
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    _pip(venv / "bin" / "python", "install", "-c", str(constraints), str(source))
    return venv / "bin" / "connect-connector"


def _gstreamer_missing() -> str:
    """Why GStreamer's RTSP server cannot run here, or "" when it can."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", GSTREAMER_PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "the probe failed"
    return f"GStreamer elements missing: {probe.stdout.strip()}" if probe.stdout.strip() else ""


class RtspCamera:
    """``rtsp_camera.py`` as a process: ``start()`` and ``stop()`` (a power cut: SIGKILL) as often as a test
    likes, always on the same port; ``clients`` counts the connections it accepted over all its lives."""

    def __init__(self, *, user: str | None = None, password: str | None = None, pattern: str = "ball"):
        self.port = free_port()
        self.user, self.password, self.pattern = user, password, pattern
        self.process: subprocess.Popen | None = None
        self.clients = 0
        self._lock = threading.Lock()

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        credentials = f"{user}:{password}@" if user else ""
        return f"rtsp://{credentials}127.0.0.1:{self.port}/stream"

    def start(self, *, pattern: str | None = None) -> None:
        command = [SYSTEM_PYTHON, str(CAMERA_SCRIPT), "--port", str(self.port), "--pattern", pattern or self.pattern]
        if self.user:
            command += ["--user", self.user, "--password", self.password or ""]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = self.process.stdout.readline()  # "ready ..." once it listens; the port may still be held a moment
        assert first.startswith("ready "), f"the RTSP camera did not start: {first}{self.process.stdout.read()}"
        threading.Thread(target=self._count, args=(self.process,), daemon=True).start()

    def _count(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            if line.strip() == "client":
                with self._lock:
                    self.clients += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def rtsp_camera():
    """Makes RTSP cameras (started) and switches off whatever is left at the end. Skips only when Debian's
    GStreamer RTSP server is not installed (scripts/bootstrap.sh --test installs it)."""
    why = _gstreamer_missing()
    if why:
        pytest.skip(f"GStreamer's RTSP server cannot run ({why}): run scripts/bootstrap.sh --test, which installs "
                    f"{GSTREAMER_PACKAGES}")
    cameras = []

    def make(**options) -> RtspCamera:
        camera = RtspCamera(**options)
        cameras.append(camera)
        camera.start()
        return camera

    yield make
    for camera in cameras:
        camera.stop()
