"""How an address is folded for search, the same way for the stored points and for what a person types."""

import re

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Whole words only, as address files abbreviate them (USPS Publication 28): a person typing "Street" or
# "North" finds the point stored as "ST" or "N".
_ABBREVIATIONS = {
    "street": "st", "avenue": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd", "lane": "ln",
    "court": "ct", "place": "pl", "circle": "cir", "parkway": "pkwy", "highway": "hwy", "terrace": "ter",
    "trail": "trl", "square": "sq", "way": "way", "north": "n", "south": "s", "east": "e", "west": "w",
    "apartment": "apt", "suite": "ste", "extension": "ext", "crossing": "xing", "mount": "mt",
}


def search_text(value: str) -> str:
    words = _NOT_WORD.sub(" ", value.lower()).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def like_escaped(value: str) -> str:
    """search_text() leaves only letters, digits and spaces; escaping stays as a second lock."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
