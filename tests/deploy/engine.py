"""A container engine for tests/deploy/test_container.py: podman (or a docker whose daemon answers), with the
Debian base the Containerfile names made from Debian's packages by mmdebstrap when no registry can be reached.
Every step that cannot run here raises Unavailable with what failed, for the test to skip with."""

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_IMAGE = "docker.io/library/debian:bookworm-slim"
IMAGE = "localhost/connect:test"  # what the tests build from the Containerfile
# Kept between runs (and checkouts) so the layers of an unchanged lock are reused.
CACHE = Path("/var/tmp/connect-podman")
# This machine's sandbox lacks CAP_SYS_RESOURCE: the OCI runtime's setrlimit fails even for the limits a process
# already has. This wrapper drops the rlimits from the container's spec before runc sees it; a normal host never
# needs it (the engine is tried without it first).
RLIMIT_WRAPPER = """#!/bin/sh
prev=""
for arg in "$@"; do
  case "$prev" in
    --bundle|-b) python3 STRIP "$arg/config.json" process ;;
    --process|-p) python3 STRIP "$arg" ;;
  esac
  prev=$arg
done
exec RUNC "$@"
"""
STRIP_RLIMITS = """import json, sys
path = sys.argv[1]
spec = json.load(open(path))
(spec.get(sys.argv[2], {}) if len(sys.argv) > 2 else spec).pop("rlimits", None)
json.dump(spec, open(path, "w"))
"""


class Unavailable(Exception):
    pass


class Engine:
    def __init__(self):
        self.command = self._find()
        self.notes: list[str] = []

    def _find(self) -> list[str]:
        if shutil.which("podman"):
            command = ["podman"]
            if os.geteuid() == 0:
                command += ["--root", str(CACHE / "storage"), "--runroot", str(CACHE / "run"),
                            "--storage-driver", "overlay"]
            return command
        if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
            return ["docker"]
        raise Unavailable("no container engine: podman is not installed and no docker daemon answers "
                          "(apt-get install podman)")

    def run(self, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args[:3])}... failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    def ensure_base(self) -> None:
        if self.run("image", "exists", BASE_IMAGE, check=False).returncode == 0 or \
                self.run("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
            return
        if self.run("pull", BASE_IMAGE, check=False, timeout=300).returncode == 0:
            return
        if not shutil.which("mmdebstrap"):
            raise Unavailable(f"{BASE_IMAGE} cannot be pulled and mmdebstrap is not installed to make it")
        CACHE.mkdir(parents=True, exist_ok=True)
        tarball = CACHE / "bookworm-minbase.tar"
        if not tarball.exists():
            made = subprocess.run(["mmdebstrap", "--variant=minbase", "--format=tar", "--include=ca-certificates",
                                   "bookworm", str(tarball) + ".part"], capture_output=True, text=True, timeout=900)
            if made.returncode != 0:
                raise Unavailable(f"mmdebstrap could not make a Debian base: {made.stderr[-1500:]}")
            Path(str(tarball) + ".part").rename(tarball)
        self.run("import", str(tarball), BASE_IMAGE)
        self.notes.append(f"{BASE_IMAGE} made by mmdebstrap (minbase) and imported")

    def ensure_runs(self) -> None:
        probe = self.run("run", "--rm", "--network=host", BASE_IMAGE, "true", check=False, timeout=120)
        if probe.returncode == 0:
            return
        if "rlimit" in probe.stderr.lower() and self.command[0] == "podman" and shutil.which("runc"):
            wrapper = CACHE / "runtime" / "runc"
            wrapper.parent.mkdir(parents=True, exist_ok=True)
            (wrapper.parent / "strip_rlimits.py").write_text(STRIP_RLIMITS)
            wrapper.write_text(RLIMIT_WRAPPER.replace("RUNC", shutil.which("runc"))
                               .replace("STRIP", str(wrapper.parent / "strip_rlimits.py")))
            wrapper.chmod(0o755)
            self.command += ["--runtime", str(wrapper)]
            retry = self.run("run", "--rm", "--network=host", BASE_IMAGE, "true", check=False, timeout=120)
            if retry.returncode == 0:
                self.notes.append("containers run through runc with rlimits dropped (no CAP_SYS_RESOURCE here)")
                return
            probe = retry
        raise Unavailable(f"{self.command[0]} cannot run a container here: {probe.stderr.strip()[-1500:]}")

    def build(self, tag: str, context: Path, **build_args: str) -> None:
        args = ["build", "--network=host", "-t", tag, "-f", str(context / "Containerfile")]
        if self.command[0] == "podman":
            args += ["--format", "docker"]  # OCI images drop HEALTHCHECK
        # A TLS-inspecting proxy between this machine and PyPI: hand the build this machine's CA bundle.
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists() and self.command[0] == "podman":
            args += ["--volume", f"{bundle}:/run/host-ca.crt:ro", "--build-arg", "PIP_CERT=/run/host-ca.crt"]
        for name, value in build_args.items():
            args += ["--build-arg", f"{name}={value}"]
        self.run(*args, str(context), timeout=1800)
        if str(CACHE) in self.command:  # the tests' own storage: drop the builds this one replaced
            self.run("image", "prune", "--force", check=False)

    def inspect(self, what: str) -> dict:
        return json.loads(self.run("inspect", what).stdout)[0]


def healthz(port: int, host: str) -> dict:
    """connect's /healthz answer on this machine's `port`, as `host` asks (200 or 503 alike)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def healthy_within(port: int, host: str, seconds: float) -> dict:
    """Polls /healthz until it says "ok" or `seconds` pass; the last answer ({} if none came)."""
    deadline, state = time.monotonic() + seconds, {}
    while time.monotonic() < deadline and state.get("status") != "ok":
        try:
            state = healthz(port, host)
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    return state
