"""compose.yaml brought up as an agency would (make-secrets.sh, then `up`), by podman-compose with the image
built from the Containerfile: migrate, web, worker, beat and the sealer come up healthy against PostGIS and Redis
on the compose network. No registry answers here, so the PostGIS and Redis images are stand-ins built from
Debian's packages under the names compose.yaml gives (tests/deploy/standins/)."""

import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port
from tests.deploy.engine import IMAGE, healthy_within
from tests.deploy.packaging import ROOT

pytestmark = pytest.mark.container
STANDINS = Path(__file__).parent / "standins"



@pytest.mark.timeout(1800)  # building the images the first time takes minutes
def test_compose_up_starts_a_working_connect(engine, tmp_path):
    if engine.command[0] != "podman" or not shutil.which("podman-compose"):
        pytest.skip("podman-compose is not installed (apt-get install podman-compose)")
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for name, standin in (("db", "postgis"), ("redis", "redis")):
        image = services[name]["image"]
        if engine.run("image", "exists", image, check=False).returncode != 0:
            engine.run("build", "--network=host", "--format", "docker", "-t", image,
                       "-f", str(STANDINS / f"{standin}.Containerfile"), str(STANDINS), timeout=900)
    engine.run("tag", IMAGE, services["web"]["image"])
    # The agency's steps, in a folder of its own, on a free port.
    port = free_port()
    (tmp_path / "deploy" / "compose").mkdir(parents=True)
    for path in ("deploy/compose/connect.env", "deploy/compose/make-secrets.sh"):
        shutil.copy(ROOT / path, tmp_path / path)
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text().replace('"127.0.0.1:8000:8000"',
                                                                         f'"127.0.0.1:{port}:8000"'))
    # Debian 12's podman-compose (1.0.3) ignores profiles: leave out the demo's, as `up` without --profile does.
    compose["services"] = {name: service for name, service in compose["services"].items()
                           if "demo" not in service.get("profiles", [])}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(compose, sort_keys=False))
    subprocess.run([str(tmp_path / "deploy" / "compose" / "make-secrets.sh")], check=True, capture_output=True)
    podman = tmp_path / "podman"
    podman.write_text("#!/bin/sh\nexec " + " ".join(engine.command) + ' "$@"\n')
    podman.chmod(0o755)
    project = f"connecttest{secrets.token_hex(3)}"
    compose_command = ["podman-compose", "--podman-path", str(podman), "-p", project]
    up = subprocess.run([*compose_command, "up", "-d", "--no-build"], cwd=tmp_path, capture_output=True, text=True,
                        timeout=900)
    try:
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        network = json.loads(engine.run("network", "inspect", f"{project}_default").stdout)[0]
        assert network.get("dns_enabled"), ("the compose network has no DNS, so no container finds `db` or `redis`: "
                                            "install golang-github-containernetworking-plugin-dnsname (CNI) or "
                                            "aardvark-dns (netavark)")
        deadline = time.monotonic() + 300
        state = healthy_within(port, "localhost", 300)
        logs = subprocess.run([*compose_command, "logs"], cwd=tmp_path, capture_output=True, text=True).stdout
        assert state.get("status") == "ok", f"/healthz answered {state}:\n{logs[-4000:]}"
        running = subprocess.run([*compose_command, "ps"], cwd=tmp_path, capture_output=True, text=True).stdout
        for process in ("web", "worker", "beat", "sealer"):
            assert any(f"_{process}_" in line and "Up" in line for line in running.splitlines()), running
        migrate = next(line for line in running.splitlines() if "_migrate_" in line)
        while "Exited" not in migrate and time.monotonic() < deadline:
            time.sleep(1)
            running = subprocess.run([*compose_command, "ps"], cwd=tmp_path, capture_output=True, text=True).stdout
            migrate = next(line for line in running.splitlines() if "_migrate_" in line)
        assert "Exited (0)" in migrate, logs[-4000:]
    finally:
        subprocess.run([*compose_command, "down", "-v"], cwd=tmp_path, capture_output=True, timeout=300)
        engine.run("network", "rm", f"{project}_default", check=False)  # podman-compose 1.0.3's down leaves it
