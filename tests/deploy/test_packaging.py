"""The deployment files agree with each other and with the code, on every machine (no container engine or
systemd needed): compose.yaml, the Containerfile and its entrypoint, the systemd units, the split locks."""

import ast
import importlib.util
import os
import re
import shutil
import subprocess

import pytest
import yaml
from django.core.management import get_commands

from tests.deploy.packaging import (
    ENTRYPOINT,
    ROOT,
    UNITS,
    entrypoint_commands,
    lock_pins,
    normalized,
    procfile,
    unit_settings,
)

LOCKS = ROOT / "requirements"
NOT_RUNTIME = {"aiosmtpd", "playwright", "pytest", "pytest-django", "honcho", "daphne", "ruff", "factory-boy",
               "schemathesis"}
# The Procfile's `ledger` is the compose service and image command `sealer` (the name operators look for).
COMPOSE_NAME = {"ledger": "sealer"}
PRODUCTION = ["web", "worker", "beat", "ledger"]

# A variable that holds a secret: a key, a secret, a password, a database URL (CONNECT_KEY_STORE_DIR is a folder).
SECRET_VARIABLE = r"CONNECT_(?!KEY_STORE_DIR)\w*(KEY|SECRET|PASSWORD|DATABASE_URL)"

def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_every_procfile_process_with_the_images_command():
    services = compose()["services"]
    commands = entrypoint_commands()
    for process in procfile():
        name = COMPOSE_NAME.get(process, process)
        assert name in services, f"compose.yaml has no service for the Procfile's {process}"
        assert services[name]["command"][0] in commands, f"{name}: the image has no command {services[name]['command']}"
    assert {"db", "redis"} <= set(services)
    assert services["db"]["image"].startswith("docker.io/postgis/postgis:")
    demo = {name for name, service in services.items() if "demo" in service.get("profiles", [])}
    assert {"mail", "connectors"} <= demo
    assert not demo & {"web", "worker", "beat", "sealer", "db", "redis"}


def test_compose_gives_secrets_as_files_never_as_values():
    document = compose()
    secrets = set(document["secrets"])
    for name, service in document["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"KEY|SECRET|PASSWORD|DATABASE_URL", variable):
                assert variable.endswith("_FILE") and value.startswith("/run/secrets/"), f"{name}: {variable}"
                assert value.removeprefix("/run/secrets/") in secrets
    env_file = (ROOT / "deploy" / "compose" / "connect.env").read_text()
    assert not re.search(r"^CONNECT_\w*(KEY|SECRET|PASSWORD)\w*=", env_file, re.M)
    ignored = (ROOT / ".containerignore").read_text().split()
    assert "deploy/compose/secrets" in ignored and "var" in ignored and ".venv" in ignored


def test_compose_yaml_passes_the_compose_tools_own_check(tmp_path):
    """`docker-compose config` (Debian's docker-compose, or the docker compose plugin) checks the file against the
    compose schema, with stand-in secret files where make-secrets.sh would have written the real ones."""
    plugin = shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True)
    if shutil.which("docker-compose"):
        tool = ["docker-compose"]
    elif plugin and plugin.returncode == 0:
        tool = ["docker", "compose"]
    else:
        pytest.skip("no compose tool (apt-get install docker-compose)")
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / "deploy" / "compose" / "secrets").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "compose" / "connect.env", tmp_path / "deploy" / "compose" / "connect.env")
    for name in compose()["secrets"]:
        (tmp_path / "deploy" / "compose" / "secrets" / name).write_text("stand-in")
    for profile in ([], ["--profile", "demo"]):
        result = subprocess.run([*tool, "-f", str(tmp_path / "compose.yaml"), *profile, "config", "-q"],
                                capture_output=True, text=True, cwd=tmp_path,
                                env={**os.environ, "CONNECT_MODE": "demo"})
        assert result.returncode == 0, result.stderr


def test_the_image_runs_each_procfile_process_as_the_procfile_does():
    commands = entrypoint_commands()
    for process, command in procfile().items():
        assert normalized(commands[process]) == normalized(command), process
    assert normalized(commands["sealer"]) == normalized(commands["ledger"])


def test_the_images_commands_exist():
    management = get_commands()
    for process, command in entrypoint_commands().items():
        words = normalized(command)
        if words[:2] == ["python", "manage.py"] and len(words) > 2:
            assert words[2] in management, f"{process}: no management command {words[2]}"
        if words[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(words[2]) is not None, f"{process}: no module {words[2]}"
        if words[:1] == ["celery"]:
            assert words[1:3] == ["-A", "connect"]
    assert set(PRODUCTION) | {"sealer", "migrate", "healthcheck"} <= set(entrypoint_commands())


def test_the_containerfile_installs_the_runtime_lock_only_and_bakes_no_secret():
    text = (ROOT / "Containerfile").read_text()
    assert (ROOT / "Dockerfile").resolve() == (ROOT / "Containerfile").resolve()
    assert "ARG LOCK=runtime" in text and "requirements/${LOCK}.lock" in text and "--require-hashes" in text
    assert re.search(r"^ARG BASE_IMAGE=\S+$", text, re.M) and "FROM ${BASE_IMAGE}" in text
    assert re.search(r"^USER connect$", text, re.M)
    assert "HEALTHCHECK" in text and "collectstatic" in text
    # Build-time values never include a key: the only CONNECT_ set at build is the mode for collectstatic.
    assert not re.search(SECRET_VARIABLE, text)


def test_the_locks_are_split_and_hash_pinned():
    runtime, demo, test = (lock_pins(LOCKS / f"{name}.lock") for name in ("runtime", "demo", "test"))
    assert not NOT_RUNTIME & set(runtime), "test or demo packages in the runtime lock"
    assert {"aiosmtpd", "honcho"} <= set(demo) and not {"playwright", "pytest"} & set(demo)
    assert {"aiosmtpd", "playwright", "pytest"} <= set(test)
    for narrower in (runtime, demo):
        assert {name: test[name] for name in narrower} == narrower, "the locks pin different versions"
    assert not (ROOT / "requirements.lock").exists(), "requirements/*.lock replaced requirements.lock"


def test_only_the_demo_mail_sink_imports_aiosmtpd():
    """aiosmtpd is in the demo extra: no module a production process loads may import it."""
    importers = []
    for package in ("connect", "common", "audit", "accounts", "registry", "requests_app", "integration", "dispatch",
                    "api"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name.split(".")[0] in {"aiosmtpd", "playwright", "honcho"} for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["connect/mailsink.py"]


@pytest.mark.parametrize("process", PRODUCTION)
def test_each_process_has_a_hardened_systemd_unit(process):
    unit = unit_settings(UNITS / f"connect-{process}.service")
    (exec_start,) = unit["ExecStart"]
    assert normalized(exec_start) == normalized(procfile()[process])
    # beat exits cleanly when it loses its lock to another machine's (connect/beat.py): it must come back to stand by
    assert unit["Restart"] == ["always" if process == "beat" else "on-failure"] and unit["User"] == ["connect"]
    assert unit["EnvironmentFile"] == ["/etc/connect/connect.env"]
    for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                       "NoNewPrivileges": "yes", "CapabilityBoundingSet": ""}.items():
        assert unit[key] == [value], f"connect-{process}.service: {key}"
    assert "/var/lib/connect" in unit["ReadWritePaths"]
    assert not any(re.search(SECRET_VARIABLE + r"\w*=(?!%d/)", line) for line in unit.get("Environment", []))


def test_systemd_accepts_the_units(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    # A root with the programs the units start, so the check covers the units themselves.
    venv = tmp_path / "opt" / "connect" / ".venv" / "bin"
    venv.mkdir(parents=True)
    for program in ("python", "celery"):
        (venv / program).write_text("#!/bin/sh\n")
        (venv / program).chmod(0o755)
    # ...and systemd's own units (sysinit.target and the rest every service is ordered after).
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr" / "lib" / "systemd" / "system", symlinks=True)
    units = tmp_path / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    names = [path.name for path in UNITS.glob("connect*.service") if "@" not in path.name] + ["connect.target"]
    for name in names:  # the camera connector's unit is its package's (tests/integration/connector)
        shutil.copy(UNITS / name, units / name)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}",
                             *[f"/etc/systemd/system/{name}" for name in names]],
                            capture_output=True, text=True, timeout=120)
    problems = [line for line in result.stderr.splitlines() if "connect" in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_the_shell_scripts_parse_and_pass_shellcheck():
    scripts = [*sorted((ROOT / "scripts").glob("*.sh")), ENTRYPOINT, ROOT / "deploy" / "compose" / "make-secrets.sh"]
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
