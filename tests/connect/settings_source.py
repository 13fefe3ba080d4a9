"""What connect/settings.py reads from the environment, found in its source (not by importing it, which
would give only the values of this run)."""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "connect" / "settings.py"
# The typed readers of connect/env.py; its parse_* helpers only name a variable in their messages.
READERS = {"env_str", "env_bool", "env_int", "env_list", "env_secret", "env_choice"}
UNKNOWN = object()


@dataclass
class Read:
    name: str
    line: int
    defaults: list  # every value the default can take (demo and production), or UNKNOWN items for computed ones


def _values(node: ast.AST | None, reader: str) -> list:
    """The default(s) an argument can take: a literal, either side of `x if DEMO else y`, `not DEMO`, or
    `str(BASE_DIR / "a" / "b")` (a path inside the checkout, written "a/b" in the README)."""
    if node is None:
        return {"env_bool": [UNKNOWN], "env_list": [[]]}.get(reader, [""])
    if isinstance(node, ast.IfExp):
        return _values(node.body, reader) + _values(node.orelse, reader)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and getattr(node.operand, "id", "") == "DEMO":
        return [True, False]
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "str" and len(node.args) == 1:
        parts, path = [], node.args[0]
        while isinstance(path, ast.BinOp) and isinstance(path.op, ast.Div) and isinstance(path.right, ast.Constant):
            parts.insert(0, path.right.value)
            path = path.left
        if getattr(path, "id", "") == "BASE_DIR":
            return ["/".join(parts)]
    try:
        return [ast.literal_eval(node)]
    except ValueError:
        return [UNKNOWN]


def settings_reads() -> list[Read]:
    reads = []
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in READERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                default = node.args[1] if len(node.args) > 1 else None
                reads.append(Read(first.value, node.lineno, _values(default, node.func.id)))
    return sorted(reads, key=lambda read: read.line)
