"""An uploaded list of email addresses: good rows kept, each bad one reported by its line number and why."""

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000  # a longer list is refused whole (split it), not cut short without anyone noticing


@dataclass
class EmailList:
    rows: list[tuple[str, str]] = field(default_factory=list)  # (address, language or "")
    problems: list[str] = field(default_factory=list)  # "Line 4: ..." in file order


def email_list_read(data: bytes) -> EmailList:
    """One address a line, optionally followed by a language code (en, es). A header line ("email") is skipped.
    Duplicates are kept once."""
    result = EmailList()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(_("The file is not text in UTF-8: save it as CSV (UTF-8) and upload it again."))
        return result
    languages = {code for code, _name in settings.LANGUAGES}
    seen = set()
    for number, row in enumerate(_records(text), start=1):
        if number > MAX_LINES:
            return EmailList(problems=[_("The list has more than %(max)d lines: split it into lists of at most "
                                         "%(max)d and make a campaign of each.") % {"max": MAX_LINES}])
        if row is None:
            result.problems.append(_("Line %(line)d cannot be read as CSV (a value longer than 128 KB, for "
                                     "example): it is left out.") % {"line": number})
            continue
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        address = cells[0]
        if number == 1 and address.lower() in {"email", "e-mail", "email address", "address"}:
            continue
        try:
            validate_email(address)
        except ValidationError:
            result.problems.append(_("Line %(line)d: “%(value)s” is not an email address.")
                                   % {"line": number, "value": address[:80]})
            continue
        language = cells[1].lower() if len(cells) > 1 else ""
        if language and language not in languages:
            result.problems.append(_("Line %(line)d: “%(value)s” is not a language we send in (%(known)s); the "
                                     "address is kept, in the campaign's language.")
                                   % {"line": number, "value": cells[1][:20], "known": ", ".join(sorted(languages))})
            language = ""
        key = address.lower()
        if key in seen:
            result.problems.append(_("Line %(line)d: %(value)s is listed already; it gets one invitation.")
                                   % {"line": number, "value": address})
            continue
        seen.add(key)
        result.rows.append((address, language))
    return result


def _records(text: str):
    """The CSV's rows, None for one the reader refuses (a field past its size limit raises csv.Error)."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None
