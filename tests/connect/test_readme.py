"""The README's settings table lists every CONNECT_ variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["connect", "registry", "requests_app", "integration", "audit", "dispatch", "api", "scripts", "tests",
           "bench"]


def test_every_connect_variable_is_documented():
    readme = (ROOT / "README.md").read_text()
    used = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".sh"} and path.is_file():
                used |= set(re.findall(r"CONNECT_[A-Z_]+[A-Z]", path.read_text()))
    used -= {"CONNECT_SECRET_KEY_FILE", "CONNECT_EVIDENCE_KEY_FILE", "CONNECT_CHANNEL_ENCRYPTION_KEY_FILE",
             "CONNECT_LEDGER_KEY_FILE"}
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert used and not missing, f"add to the README settings table: {missing}"
