"""One table of websocket close codes for the whole site (common.socket_messages.Close): each number has one
meaning, every consumer closes with a member of it, and the camera connector reads the same numbers."""

import ast
import re
from pathlib import Path

from common.socket_messages import Close

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = [ROOT / "accounts" / "consumers.py", ROOT / "dispatch" / "consumers.py",
             *sorted((ROOT / "integration" / "consumers").glob("*.py"))]
TABLE = {
    1009: "TOO_BIG",
    4400: "BAD_MESSAGES",
    4401: "UNAUTHENTICATED",
    4403: "FORBIDDEN",
    4404: "ENDED",
    4409: "DUPLICATE",
    4429: "FLOODING",
    4503: "UNAVAILABLE",
}


def test_the_table_lists_each_code_once_with_its_own_meaning():
    assert {int(code): code.name for code in Close} == TABLE
    assert len(Close.__members__) == len(Close)  # no name is an alias of another's number
    meanings = [str(code.meaning) for code in Close]
    assert all(meanings) and len(set(meanings)) == len(meanings)


def test_the_modules_documentation_shows_the_same_table():
    import common.socket_messages as module

    documented = dict(re.findall(r"^\s+(\d{4})\s+([A-Z_]+)\s", module.__doc__, re.MULTILINE))
    assert {int(number): name for number, name in documented.items()} == TABLE


def close_codes_given(tree) -> list[ast.expr]:
    """The code arguments of every close(code=...) and Refusal(code, ...) call."""
    codes = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "close":
            codes += [keyword.value for keyword in node.keywords if keyword.arg == "code"] + node.args[:1]
        elif name == "Refusal":
            codes += node.args[:1]
    return codes


def test_every_consumer_closes_with_a_member_of_the_table():
    given = 0
    for path in CONSUMERS:
        for code in close_codes_given(ast.parse(path.read_text())):
            given += 1
            assert not isinstance(code, ast.Constant), f"{path.relative_to(ROOT)}:{code.lineno}: use Close"
            if isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name) and code.value.id == "Close":
                assert code.attr in Close.__members__, ast.unparse(code)
    assert given >= 15  # the scan found the consumers' closes


def test_the_camera_connector_reads_the_servers_codes():
    from connect_connector import link

    assert link.REFUSED == Close.UNAUTHENTICATED
    assert link.NOT_SHARED == Close.FORBIDDEN
    assert link.DUPLICATE == Close.DUPLICATE
    assert link.THROTTLED == Close.FLOODING
    assert link.UNAVAILABLE == Close.UNAVAILABLE


def test_the_map_script_reads_the_servers_codes():
    script = (ROOT / "static" / "dispatch" / "js" / "dispatch_layer.js").read_text()
    assert f"CLOSE_UNAUTHENTICATED = {int(Close.UNAUTHENTICATED)}" in script
    assert f"CLOSE_FORBIDDEN = {int(Close.FORBIDDEN)}" in script
