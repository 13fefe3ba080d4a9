"""A small reader of gettext .po files: enough for the catalogue tests (no dependency for one file format).

Each entry keeps its context, msgid, plural msgid, msgstr forms and flags (`fuzzy`, `python-format`, ...)."""

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The key the compiled catalogue uses: 'context\\x04msgid' when there is a context."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and "fuzzy" not in self.flags


def _string(line: str) -> str:
    return ast.literal_eval(line)  # a C-style string literal: Python reads its escapes the same way here


def read(path: Path) -> list[Entry]:
    """Every entry but the header, in file order."""
    entries, current, target = [], Entry(), None

    def finish():
        nonlocal current
        if current.msgid or current.msgstr:
            entries.append(current)
        current = Entry()

    for raw in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if line.startswith("#~"):
            current.obsolete = True
            line = line[2:].strip()
            if not line:
                continue
        if not line:
            finish()
            target = None
        elif line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            current.msgctxt, target = _string(line[8:]), "msgctxt"
        elif line.startswith("msgid_plural "):
            current.msgid_plural, target = _string(line[13:]), "msgid_plural"
        elif line.startswith("msgid "):
            if current.msgstr:  # an entry without the blank line after it
                finish()
            current.msgid, target = _string(line[6:]), "msgid"
        elif line.startswith("msgstr["):
            index, rest = line[7:].split("]", 1)
            current.msgstr.append(_string(rest.strip()))
            target = ("msgstr", int(index))
        elif line.startswith("msgstr "):
            current.msgstr, target = [_string(line[7:])], ("msgstr", 0)
        elif line.startswith('"') and target is not None:
            if isinstance(target, tuple):
                current.msgstr[target[1]] += _string(line)
            else:
                setattr(current, target, getattr(current, target) + _string(line))
    return [entry for entry in entries if entry.msgid and not entry.obsolete]
