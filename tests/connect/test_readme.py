"""The README's settings table lists every CONNECT_ variable the code reads, with the code's default."""

import re

from django.conf import settings

from connect.env import beat_variable
from tests.connect.settings_source import ROOT, UNKNOWN, settings_reads

SOURCES = ["connect", "registry", "requests_app", "integration", "audit", "dispatch", "api", "scripts", "tests",
           "bench"]


def test_every_connect_variable_is_documented():
    readme = (ROOT / "README.md").read_text()
    used = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".sh"} and path.is_file():
                # Whole names only: a prefix ("CONNECT_BEAT_" + entry) is no variable.
                used |= set(re.findall(r"CONNECT_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])", path.read_text()))
    used -= {"CONNECT_SECRET_KEY_FILE", "CONNECT_EVIDENCE_KEY_FILE", "CONNECT_CHANNEL_ENCRYPTION_KEY_FILE",
             "CONNECT_LEDGER_KEY_FILE"}
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert used and not missing, f"add to the README settings table: {missing}"


def _readme_defaults() -> dict[str, list[str]]:
    """{variable: the README's default cell} from every table row naming CONNECT_ variables in its first column.
    A row naming several (`A` / `B` | `1` / `2`) pairs them up when the counts match."""
    cells = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        columns = [column.strip() for column in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(columns) < 3:
            continue
        named = re.findall(r"`(CONNECT_[A-Z0-9_]+)`", columns[0])
        names = [name for name in named if name.removesuffix("_FILE") == name or name[:-5] not in named]
        values = columns[1].split(" / ") if len(names) > 1 else [columns[1]]
        for index, name in enumerate(names):
            cells[name] = values[index] if len(values) == len(names) else columns[1]
    return cells


def _written(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def _says(cell: str, value) -> bool:
    if _written(value) == "":
        return bool(re.match(r"(empty|none|unset)\b", cell))
    return _written(value) in re.findall(r"`([^`]*)`", cell)


def test_each_default_in_the_readme_is_the_codes():
    documented = _readme_defaults()
    wrong = []
    for read in settings_reads():
        for value in read.defaults:
            if value is not UNKNOWN and not _says(documented.get(read.name, ""), value):
                wrong.append(f"{read.name}: code {_written(value)!r} (settings.py:{read.line}), "
                             f"README {documented.get(read.name)!r}")
    for entry, beat in settings.CELERY_BEAT_SCHEDULE.items():
        seconds = int(beat["schedule"].total_seconds())
        if not _says(documented.get(beat_variable(entry), ""), seconds):
            wrong.append(f"{beat_variable(entry)}: code {seconds} s, README {documented.get(beat_variable(entry))!r}")
    assert not wrong, "\n".join(wrong)


def test_the_readme_asks_for_the_key_lengths_the_code_enforces():
    documented = _readme_defaults()
    assert f"{settings.SECRET_KEY_MIN_CHARS}+ chars" in documented["CONNECT_SECRET_KEY"]
    ledger_row = next(line for line in (ROOT / "README.md").read_text().splitlines()
                      if line.startswith("| `CONNECT_LEDGER_KEY`"))
    assert f"{settings.LEDGER_KEY_MIN_CHARS}+ random characters" in ledger_row
