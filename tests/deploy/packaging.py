"""Reading the deployment files: the Procfile, the container's entrypoint, the systemd units, the locks."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "container" / "entrypoint.sh"
UNITS = ROOT / "deploy" / "systemd"
# Arguments that name a place (an address, a port, a path) and so differ between the Procfile, the image and
# the units by design; everything else on a process's command line must be the same in all three.
PLACE_OPTIONS = {"--host", "--port", "--schedule", "--dir"}


def procfile() -> dict[str, str]:
    """{process: command} from the Procfile."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def normalized(command: str) -> list[str]:
    """A command line with its program's folder, place options and "$@" taken out, and each variable reduced to its
    name: `${CONNECT_WEB_PROCESSES:-1}` (shell) and `${CONNECT_WEB_PROCESSES}` (systemd, default set apart) agree."""
    command = re.sub(r"\$\{([A-Z_]+)(?::-[^}]*)?\}", r"$\1", command)
    words = [word for word in shlex.split(command) if word != "$@"]
    out = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in PLACE_OPTIONS:
            skip = True
            continue
        out.append(word.rsplit("/", 1)[-1] if word.startswith(("/", ".venv/")) else word)
    return out


def entrypoint_commands() -> dict[str, str]:
    """{process: the command its `exec` runs} for each case of the container's entrypoint."""
    commands = {}
    text = ENTRYPOINT.read_text()
    for match in re.finditer(r"^  ([a-z|]+)\)\n(.*?);;", text, re.S | re.M):
        body = " ".join(line.strip().rstrip("\\") for line in match.group(2).splitlines()
                        if line.strip() and not line.strip().startswith("#"))
        exec_line = re.search(r"exec (.*)", body)
        for name in match.group(1).split("|"):
            commands[name] = exec_line.group(1).strip() if exec_line else ""
    return commands


def unit_settings(path: Path) -> dict[str, list[str]]:
    """{key: [values]} of a unit file's [Service] section."""
    found: dict[str, list[str]] = {}
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def lock_pins(path: Path) -> dict[str, str]:
    """{package: version} of a hash-pinned lock, asserting every pin carries a hash."""
    text = path.read_text()
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\n", 1)[0]
        if not first or first.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9._-]+)==([^ ;\\]+)", first)
        assert match, f"{path.name}: not a pin: {first!r}"
        assert "--hash=sha256:" in block, f"{path.name}: {first} has no hash"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins
