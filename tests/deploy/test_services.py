"""scripts/services.sh, test.sh and bootstrap.sh as a second checkout on the same machine sees them: a taken port
is an error naming it, another checkout's Redis is never used or stopped, `make test` stops what it started and
only that, `make clean` leaves no cluster behind, and installed packages are found by what provides them."""

import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.conftest import free_port
from tests.deploy.packaging import ROOT


def checkout(tmp_path: Path) -> Path:
    """A second checkout: connect's scripts in a folder of their own (its own var/)."""
    (tmp_path / "scripts").mkdir(parents=True)
    for script in ("services.sh", "test.sh", "run.sh", "stop-started.sh", "bootstrap.sh", "chromium.sh"):
        shutil.copy(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    return tmp_path


def run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items()
               if key not in {"CONNECT_DATABASE_URL", "CONNECT_REDIS_URL"}}
    return subprocess.run(args, cwd=folder, env={**environ, **env}, capture_output=True, text=True, timeout=300)


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_a_taken_postgres_port_is_named_with_the_variable_and_nothing_is_made(tmp_path):
    folder = checkout(tmp_path)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run(folder, "scripts/services.sh", "start", "postgres", PG_PORT=str(port))
    assert result.returncode == 1
    assert f"port {port} is already taken" in result.stderr and f"PG_PORT={port}" not in result.stderr
    assert "PG_PORT=<free port> make run" in result.stderr
    assert not (folder / "var" / "postgres").exists()


@pytest.mark.parametrize("script", ["run.sh", "test.sh"])
def test_make_run_and_make_test_name_a_taken_port_before_installing_anything(tmp_path, script):
    folder = checkout(tmp_path)
    installed = folder / "bootstrap-ran"
    executable(folder / "scripts" / "bootstrap.sh", f"#!/bin/sh\ntouch {installed}\n")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run(folder, f"scripts/{script}", PG_PORT=str(port), REDIS_PORT=str(free_port()),
                     PORT=str(free_port()), CONNECT_EMAIL_PORT=str(free_port()))
    assert result.returncode == 1
    assert f"port {port} is already taken" in result.stderr and "PG_PORT=<free port>" in result.stderr
    assert not installed.exists(), "it installed before saying the port was taken"


def test_a_second_checkout_never_shares_or_stops_the_first_ones_redis(tmp_path):
    first = redis.Redis.from_url(settings.REDIS_URL)
    port = first.connection_pool.connection_kwargs["port"]
    folder = checkout(tmp_path)
    result = run(folder, "scripts/services.sh", "start", "redis", REDIS_PORT=str(port))
    assert result.returncode == 1
    assert f"port {port} is already taken" in result.stderr and "REDIS_PORT=<free port>" in result.stderr
    assert run(folder, "scripts/services.sh", "status", REDIS_PORT=str(port)).stdout == ""
    assert run(folder, "scripts/services.sh", "stop", REDIS_PORT=str(port)).returncode == 0
    assert first.ping(), "the second checkout's stop shut the first one's Redis down"


def test_make_test_stops_the_services_it_started_and_clean_removes_the_cluster(tmp_path):
    if shutil.which("redis-server") is None or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("needs PostgreSQL and Redis installed")
    folder = checkout(tmp_path)
    # Stand-ins for what this test does not exercise: installing, finding Chromium, pytest itself.
    executable(folder / "scripts" / "bootstrap.sh", "#!/bin/sh\nexit 0\n")
    executable(folder / "scripts" / "chromium.sh", "#!/bin/sh\necho /bin/true\n")
    executable(folder / ".venv" / "bin" / "python", '#!/bin/sh\necho "pytest ran with $CONNECT_REDIS_URL"\n')
    ports = {"PG_PORT": str(free_port()), "REDIS_PORT": str(free_port())}
    try:
        # Redis already running (a `make run`, say): left running. PostgreSQL started by test.sh: stopped.
        assert run(folder, "scripts/services.sh", "start", "redis", **ports).returncode == 0
        result = run(folder, "scripts/test.sh", **ports)
        assert result.returncode == 0, result.stderr
        assert f"pytest ran with redis://127.0.0.1:{ports['REDIS_PORT']}/15" in result.stdout
        assert run(folder, "scripts/services.sh", "status", **ports).stdout.split() == ["redis"]
        # Both stopped before it: test.sh stops both.
        run(folder, "scripts/services.sh", "stop", **ports)
        assert run(folder, "scripts/test.sh", **ports).returncode == 0
        assert run(folder, "scripts/services.sh", "status", **ports).stdout == ""
        # Redis's port taken by someone else: test.sh stops at once, saying so, and stops the PostgreSQL it started.
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port our Redis just left
            other.bind(("127.0.0.1", int(ports["REDIS_PORT"])))
            other.listen()
            result = run(folder, "scripts/test.sh", **ports)
        assert result.returncode == 1 and "pytest ran" not in result.stdout
        assert f"port {ports['REDIS_PORT']} is already taken" in result.stderr
        assert run(folder, "scripts/services.sh", "status", **ports).stdout == ""
    finally:
        cluster = (folder / "var" / "postgres").resolve()
        result = run(folder, "scripts/services.sh", "clean", **ports)
    assert result.returncode == 0, result.stderr
    assert not (folder / "var").exists() and not cluster.exists()
    if str(cluster).startswith("/var/lib/connect/"):  # as root, outside the postgres user's reach
        assert not cluster.parent.exists()


def test_virtual_packages_count_as_installed_by_what_provides_them(tmp_path):
    """Debian 13's postgresql-contrib is virtual (provided by postgresql-17): no apt run for it."""
    fake = tmp_path / "bin"
    wanted = ["python3", "python3-venv", "postgresql", "postgresql-postgis", "redis-server", "gdal-bin",
              "libgdal-dev", "libgeos-dev", "libproj-dev"]
    lines = [f"ii |{name}|" for name in wanted] + ["ii |postgresql-17|postgresql-contrib-17, postgresql-contrib (= 17)",
                                                   "rc |removed-thing|chromium"]
    executable(fake / "dpkg-query", "#!/bin/sh\ncat <<'EOF'\n" + "\n".join(lines) + "\nEOF\n")
    folder = checkout(tmp_path / "checkout")
    path = f"{fake}:{os.environ['PATH']}"
    assert run(folder, "scripts/bootstrap.sh", "--missing", PATH=path).stdout == ""
    missing = run(folder, "scripts/bootstrap.sh", "--missing", "--test", PATH=path).stdout.split()
    assert missing[0] == "fonts-dejavu-core" and missing[-1] == "chromium"  # a removed package's Provides do not count


def test_chromium_says_what_to_do_when_the_one_named_does_not_run(tmp_path):
    result = run(checkout(tmp_path), "scripts/chromium.sh", CONNECT_TEST_CHROMIUM=str(tmp_path / "no-chrome"))
    assert result.returncode == 1
    assert f"CONNECT_TEST_CHROMIUM={tmp_path / 'no-chrome'} does not run" in result.stderr


def test_a_snap_wrapper_is_not_taken_for_chromium(tmp_path):
    wrapper = tmp_path / "chromium"
    executable(wrapper, "#!/bin/sh\necho 'Command requires the chromium snap to be installed.' >&2\n"
                        "exec /snap/bin/chromium\n")
    result = run(checkout(tmp_path / "checkout"), "scripts/chromium.sh", CONNECT_TEST_CHROMIUM=str(wrapper))
    assert result.returncode == 1 and "does not run" in result.stderr
