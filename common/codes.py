"""Public codes (UUIDs) arrive as text from URLs, JSON and query strings; junk is no code, never an error."""

import uuid


def parse_code(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
