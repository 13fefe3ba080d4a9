"""The shipped catalogues: complete, not fuzzy, placeholders intact, and the committed .mo compiled from the .po.

connect commits each language's compiled django.mo beside its django.po, so neither `make run`, `make test`
nor the container image needs gettext installed. These tests fail when a .po is edited and not compiled again
(`msgfmt -o django.mo django.po`, or `manage.py compilemessages`), or when a string is left untranslated."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n import po

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>")


def catalogue(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def test_every_other_language_has_a_catalogue():
    assert LANGUAGES, "settings.LANGUAGES offers no language but the default"
    for language in LANGUAGES:
        assert catalogue(language).exists(), f"no catalogue for {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(language):
    entries = po.read(catalogue(language))
    assert len(entries) > 400  # registration, portal, footage page, transparency, emails
    missing = [entry.msgid for entry in entries if not entry.translated]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_markup_survive_translation(language):
    for entry in po.read(catalogue(language)):
        expected = sorted(_PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for form in entry.msgstr:
            assert sorted(_PLACEHOLDER.findall(form)) in (expected, sorted(_PLACEHOLDER.findall(entry.msgid))), (
                entry.msgid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_is_the_compiled_po(language):
    source = catalogue(language)
    with open(source.with_suffix(".mo"), "rb") as compiled_file:
        compiled = gettext.GNUTranslations(compiled_file)._catalog
    expected = {}
    for entry in po.read(source):
        if not entry.translated:
            continue
        if entry.msgid_plural:
            expected.update({(entry.key, index): form for index, form in enumerate(entry.msgstr)})
        else:
            expected[entry.key] = entry.msgstr[0]
    compiled = {key: value for key, value in compiled.items() if key != ""}  # "" is the header
    assert compiled == expected, "the .mo is out of date: run msgfmt -o django.mo django.po (see README)"
