"""Every public template and owner email: no words outside translate tags.

The template's text is what remains once tags, variables, comments, HTML markup, scripts and styles are taken
out, and translate/blocktranslate blocks with them (and <pre> blocks: commands and settings shown to copy). Any
word left is a sentence someone added without marking it: Spanish readers would get it in English. Staff pages
(admin, staff map, analyst live view, evidence pages, the demo inbox, staff mail) may stay English and are
listed below."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# Staff-only templates: English is allowed there.
STAFF = {
    "admin", "accounts", "demo", "audit/search.html", "audit/settings.html", "registry/map.html",
    "integration/_live_viewer.html", "integration/wall.html",  # the analysts' incident wall
    "requests_app/clip_integrity_failed.html", "requests_app/clip_key_unavailable.html",
    "requests_app/clip_play.html", "requests_app/clip_purged.html", "requests_app/clip_unavailable.html",
    "emails/staff-email-changed-body.html", "emails/staff-email-changed-body.txt",
    "emails/staff-email-changed-subject.txt", "emails/staff-password-reset-body.html",
    "emails/staff-password-reset-body.txt", "emails/staff-password-reset-subject.txt",
    "emails/weekly-review-body.html", "emails/weekly-review-body.txt", "emails/weekly-review-subject.txt",
    "emails/override-request-body.html", "emails/override-request-body.txt", "emails/override-request-subject.txt",
    "integration/overrides.html",
    "invitations/staff/campaign_list.html", "invitations/staff/campaign_new.html",
    "invitations/staff/campaign_detail.html", "invitations/staff/letters.html",
    # The records officer's pages (the owner's objection page and email are public and translated).
    "records/dashboard.html", "records/refused.html", "records/refusal_letter.html",
    "records/refusal_letter_form.html", "records/release.html",
    "concerns/staff_list.html", "concerns/staff_detail.html",
    # The analyst's compose page and the sender's receipts page (the patrol page is translated).
    "bulletins/compose.html", "bulletins/detail.html",
    "agencies",  # outside agencies' people and the program's legal reviewer: professionals, like staff
    "detections",  # the staff's search of a case's clips by object and attribute
}
# Words that are the same in every language: the product's name, a hash's name, a file format.
# And the camera connector's settings file, shown to copy as it is.
NOT_WORDS = {"connect", "SHA-256", "CSV", "CONNECTOR_SOURCE=rtsp://user:password@camera-address:554/stream"}
_SETTING = re.compile(r"^CONNECTOR_[A-Z]+=$")

_BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|<!--.*?-->", re.S)
_CODE = re.compile(r"<(script|style|pre)\b.*?</\1>|{%\s*block body_class\s*%}.*?{%\s*endblock\s*%}", re.S | re.I)
_TAG_OR_VARIABLE = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_TEXT_ATTRIBUTE = re.compile(r"""\b(?:aria-label|alt|title|placeholder)=(?:"([^"]*)"|'([^']*)')""")
_MARKUP = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[#\w]+;")


def public_templates() -> list[Path]:
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        relative = path.relative_to(TEMPLATES).as_posix()
        if relative in STAFF or relative.split("/", 1)[0] in STAFF:
            continue
        found.append(path)
    return found


def words_outside_translation(source: str) -> list[str]:
    """The words of `source` a reader would see that no translate tag covers."""
    text = _COMMENT.sub(" ", source)
    text = _CODE.sub(" ", text)
    text = _BLOCK.sub(" ", text)
    text = _TAG_OR_VARIABLE.sub(" ", text)
    # Attributes people read (labels for screen readers, image text, tooltips): their words stay.
    text = _MARKUP.sub(lambda tag: " ".join(" ".join(value) for value in _TEXT_ATTRIBUTE.findall(tag.group())),
                       text)
    text = _ENTITY.sub(" ", text)
    return [word for word in text.split()
            if word not in NOT_WORDS and not _SETTING.match(word) and re.search(r"[A-Za-z]{2,}", word)]


def test_the_scan_finds_public_templates():
    names = {path.relative_to(TEMPLATES).as_posix() for path in public_templates()}
    assert {"base.html", "registry/register.html", "requests_app/consent.html", "audit/transparency.html",
            "emails/footage-request-body.txt", "404.html", "500.html"} <= names


@pytest.mark.parametrize("path", public_templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_no_unmarked_words_in_public_templates(path):
    source = path.read_text(encoding="utf-8")
    assert words_outside_translation(source) == [], f"{path}: mark these with {{% translate %}}"


def test_an_unmarked_sentence_is_found():
    """The scan itself: an English sentence added to a page, to an attribute or beside a translated one."""
    marked = '{% load i18n %}<p>{% translate "Hello" %}</p><img alt="{% translate \'A picture\' %}">'
    assert words_outside_translation(marked) == []
    assert words_outside_translation(marked + "<p>Please call us.</p>") == ["Please", "call", "us."]
    assert words_outside_translation('<button aria-label="Close it">{% translate "Save" %}</button>') == [
        "Close", "it"]
    assert words_outside_translation("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %} there") == ["there"]
