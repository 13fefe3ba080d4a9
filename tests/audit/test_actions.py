"""The ledger's actions are one typed enumeration: nothing writes an action that is not declared in it."""

import ast
from pathlib import Path

import pytest

from audit.actions import Action, owner_visible
from audit.ledger import record

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"record", "entry"}  # audit.ledger's two ways to make an entry


def _source_files():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "bench", "var", "static"} or "migrations" in parts:
            continue
        yield path


def _literal_actions(path: Path):
    """(line, text) of every ledger write in the file whose action is a bare string."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in WRITERS:
            continue
        for keyword in node.keywords:
            if keyword.arg == "action" and any(isinstance(n, ast.Constant) and isinstance(n.value, str)
                                               for n in ast.walk(keyword.value)):
                yield node.lineno, ast.unparse(keyword.value)


def test_no_code_writes_an_action_as_a_bare_string():
    found = [f"{path.relative_to(ROOT)}:{line}: {text}" for path in _source_files()
             for line, text in _literal_actions(path)]
    assert not found, "ledger writes must name an Action member:\n" + "\n".join(found)


@pytest.mark.django_db
def test_recording_an_undeclared_action_fails_at_once():
    with pytest.raises(ValueError):
        record(actor=None, action="camera.teleported", target_type="camera")


def test_the_scanner_finds_a_bare_string(tmp_path):
    """The check above must be able to fail."""
    sample = tmp_path / "sample.py"
    sample.write_text('record(actor=None, action="clip.viewed")\nrecord(actor=None, action=Action.CLIP_VIEWED)\n')
    assert list(_literal_actions(sample)) == [(1, "'clip.viewed'")]


def test_every_action_says_whether_owners_see_it_and_values_are_unique():
    values = [action.value for action in Action]
    assert len(values) == len(set(values))
    assert "request.mailed" in owner_visible() and "signin.failed" not in owner_visible()
    assert all(str(Action(value).owner_sees) for value in owner_visible())
