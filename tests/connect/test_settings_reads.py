"""Each CONNECT_ variable is read once, by a typed parser in connect/settings.py, and nowhere else: two reads
could disagree on the default (CONNECT_AGENCY_NAME once had two), and a read elsewhere escapes the README."""

import ast
from collections import defaultdict

from django.conf import settings

from connect.env import beat_variable
from tests.connect.settings_source import READERS, ROOT, settings_reads

# Files allowed to touch os.environ: the parsers themselves, and the settings that call them.
PARSERS = {"connect/env.py", "connect/settings.py"}


def test_every_connect_variable_is_parsed_once():
    lines = defaultdict(list)
    for read in settings_reads():
        lines[read.name].append(read.line)
    for entry in settings.CELERY_BEAT_SCHEDULE:
        lines[beat_variable(entry)].append(f"beat entry {entry!r}")
    assert len(lines) > 50 and all(name.startswith("CONNECT_") for name in lines)
    twice = {name: where for name, where in lines.items() if len(where) > 1}
    assert not twice, f"read once and reuse the setting: {twice}"


def _app_modules():
    apps = {name.split(".")[0] for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0]).is_dir()}
    for app in sorted(apps | {"common"}):
        yield from sorted((ROOT / app).rglob("*.py"))
    yield ROOT / "manage.py"


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines reading the environment: os.environ / os.getenv, or a CONNECT_ parser called outside settings. Setting
    DJANGO_SETTINGS_MODULE (manage.py, asgi.py, celery.py) is wiring, not a read."""
    wiring = {id(node.func.value) for node in ast.walk(tree)
              if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "setdefault"
              and node.args and getattr(node.args[0], "value", None) == "DJANGO_SETTINGS_MODULE"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv"} \
                and id(node) not in wiring:
            found.append(node.lineno)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in READERS:
            found.append(node.lineno)
    return found


def test_no_code_outside_settings_reads_the_environment():
    outside = []
    for path in _app_modules():
        relative = str(path.relative_to(ROOT))
        if relative not in PARSERS:
            outside += [f"{relative}:{line}" for line in _environment_reads(ast.parse(path.read_text()))]
    assert not outside, f"read the variable in connect/settings.py and use the setting: {outside}"


def test_the_scan_sees_an_environment_read():
    assert _environment_reads(ast.parse("import os\nDEBUG = os.environ.get('CONNECT_DEBUG')\n")) == [2]
    assert _environment_reads(ast.parse("x = env_int('ANY_NAME', 1)\n")) == [1]
    assert _environment_reads(ast.parse("import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 's')\n")) == []
