"""The text a reader of a PDF sees, for tests: the strings of each text object (BT ... ET) in its content streams,
joined. Enough for the PDFs connect draws with fpdf2's built-in fonts (Windows-1252 strings); no PDF reader
package is needed for it."""

import re
import zlib

# The end-of-line before "endstream" is left to zlib, which ignores what follows its data: a stream whose last
# byte happens to be a carriage return stays whole.
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
# A string, or the start or end of a text object: strings are taken whole, so an "ET" inside one ends nothing.
_TOKEN = re.compile(rb"\(((?:\\.|[^\\)])*)\)|\b(BT|ET)\b", re.S)
_ESCAPE = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    def one(match):
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, raw)


def pdf_lines(data: bytes) -> list[str]:
    lines = []
    for stream in _STREAM.finditer(data):
        try:
            content = zlib.decompressobj().decompress(stream.group(1))
        except zlib.error:
            continue  # an image or font program, not page content
        parts: list[bytes] = []
        for string, operator in _TOKEN.findall(content):
            if operator == b"ET" and parts:
                lines.append(b"".join(parts).decode("cp1252"))
                parts = []
            elif not operator:
                parts.append(_unescape(string))
    return lines


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_lines(data))
