"""connector/ as owners get it: a package that installs on its own, its container image and its systemd unit."""

import re
import shutil
import subprocess
import tomllib

import pytest
from connect_connector.__main__ import build_parser, env_name

from tests.integration.connector.conftest import GSTREAMER_PACKAGES, PACKAGE

UNIT = PACKAGE / "systemd" / "connect-connector@.service"
ENV_EXAMPLE = PACKAGE / "systemd" / "camera.env.example"


def variables_read() -> set[str]:
    return {env_name(action.option_strings[-1]) for action in build_parser()._actions
            if action.option_strings and action.dest not in {"help", "version", "verbose"}}


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_package_installs_alone_and_runs_without_django(installed_connector):
    version = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]["version"]
    result = subprocess.run([str(installed_connector), "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"connect-connector {version}", result.stderr
    python = installed_connector.with_name("python")
    check = ("import importlib.util as u; "
             "print([m for m in ('django', 'channels', 'connect', 'integration', 'registry') if u.find_spec(m)])")
    found = subprocess.run([str(python), "-c", check], capture_output=True, text=True, timeout=60,
                           cwd=installed_connector.parents[2], env={"PATH": "/usr/bin:/bin"})  # not the checkout
    assert found.stdout.strip() == "[]", found.stderr  # only av, Pillow and websockets came along
    helped = subprocess.run([str(installed_connector), "--help"], capture_output=True, text=True, timeout=60)
    assert "CONNECTOR_TOKEN" in helped.stdout and "rtsp://" in helped.stdout


def test_the_example_settings_file_names_only_variables_the_program_reads():
    named = set(re.findall(r"^#?(CONNECTOR_[A-Z_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert {"CONNECTOR_SERVER", "CONNECTOR_CAMERA", "CONNECTOR_TOKEN", "CONNECTOR_SOURCE"} <= named
    assert named <= variables_read(), named - variables_read()


def test_the_unit_keeps_secrets_off_the_command_line_and_gives_up_only_on_a_bad_setting():
    settings = unit_settings(UNIT.read_text())
    command = settings["ExecStart"][0]
    assert command.split()[0].endswith("/connect-connector")
    assert "--token" not in command and "--source" not in command  # ps shows command lines to every user
    assert settings["EnvironmentFile"] == ["/etc/connect-connector/%i.env"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["RestartPreventExitStatus"] == ["2"]  # the program's status for a setting that never works
    for hardening in ("DynamicUser", "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                      "PrivateDevices", "RestrictAddressFamilies", "SystemCallFilter", "CapabilityBoundingSet"):
        assert hardening in settings, f"{hardening} is missing"
    assert settings["CapabilityBoundingSet"] == [""]


def test_the_unit_passes_systemd_analyze_verify(installed_connector, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # The unit as installed for a camera called front-door, with this test's program and settings file.
    (tmp_path / "front-door.env").write_text(ENV_EXAMPLE.read_text())
    text = (UNIT.read_text().replace("/usr/local/bin/connect-connector", str(installed_connector))
            .replace("/etc/connect-connector/%i.env", str(tmp_path / "%i.env")))
    unit = tmp_path / "connect-connector@front-door.service"
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_the_image_runs_the_console_script_as_a_user_without_rights():
    lines = [line.strip() for line in (PACKAGE / "Containerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    bases = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert bases and all("slim" in base for base in bases)
    user = [line.split()[1] for line in instructions if line.startswith("USER ")][-1]
    assert user.split(":")[0].isdigit() and int(user.split(":")[0]) >= 1000  # numeric: runAsNonRoot can check it
    scripts = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = next(line for line in instructions if line.startswith("ENTRYPOINT "))
    assert entrypoint == f'ENTRYPOINT ["{next(iter(scripts))}"]'
    for line in instructions:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (PACKAGE / source).exists(), f"{line}: {source} is not in connector/"


def test_bootstrap_installs_what_the_rtsp_tests_need():
    """CI gets GStreamer only through scripts/bootstrap.sh --test: its list and the tests' must agree."""
    script = (PACKAGE.parent / "scripts" / "bootstrap.sh").read_text()
    test_packages = script[script.index("TEST_PACKAGES=("):].split(")", 1)[0].split()
    assert set(GSTREAMER_PACKAGES.split()) <= set(test_packages)
