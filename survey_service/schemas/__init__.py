"""The shared base of the wire formats (msgspec Structs; never ORM rows).

Each feature slice keeps its own wire formats in its ``schemas`` module (``screening.schemas``,
``cases.schemas``, …); this package holds what they share: the request base class, which
refuses unknown fields, the page languages, and the constrained text types every string a
client sends is declared with.

Text a client sends is checked at the edge, before anything is written: every string has a
maximum length (never above its database column) and refuses control characters. A NUL byte
would otherwise fail deep in PostgreSQL, an over-long value overflow its column; bidi overrides
(U+202A–U+202E, U+2066–U+2069) would let a name display as something it is not. Single-line
fields (``Name``, ``ShortText``, ``Code``) refuse every C0 and C1 control character; free text
(``Text``, ``LongText``) allows line breaks and tabs (``\\n``, ``\\r``, ``\\t``) and refuses the
other control characters; lone UTF-16 surrogates are refused everywhere. A refused value is a
400 naming the field (e.g. ``$.kind``), never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = [
    "FREE_TEXT_PATTERN",
    "PATTERN_MEANINGS",
    "SINGLE_LINE_PATTERN",
    "AwareDatetime",
    "Code",
    "Kind",
    "Language",
    "LongText",
    "Name",
    "Request",
    "ShortText",
    "Text",
    "free_text",
    "single_line",
]

Language = Literal["zh-CN", "en"]
#: A timestamp a client sends: it must carry its zone (``2026-09-07T10:00:00+08:00`` or ``…Z``);
#: a bare local time is refused with a 400 naming the field, never stored as a guess.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

# The patterns are valid both as Python ``re`` (msgspec checks with ``re.search``) and as
# ECMA-262 (the OpenAPI schema publishes them). ``$(?!\n)`` is the end of the text: Python's
# ``$`` alone also matches before a final newline, which would let "name\n" through.
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_SURROGATES = r"\ud800-\udfff"
#: No C0 or C1 control character, no bidi override or isolate, no lone surrogate.
SINGLE_LINE_PATTERN = rf"^[^\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]*$(?!\n)"
#: As single-line, but line breaks and tabs are allowed.
FREE_TEXT_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]*$(?!\n)"

#: What each pattern means, in words, for error messages (a regex means nothing to a user).
PATTERN_MEANINGS = {
    SINGLE_LINE_PATTERN: "text without control characters, line breaks or bidi overrides",
    FREE_TEXT_PATTERN: "text without control characters (other than line breaks and tabs)",
}


def single_line(max_length: int) -> msgspec.Meta:
    """One line of text (a name, a label, a kind word), at most ``max_length`` characters:
    ``Annotated[str, single_line(32)]`` for a String(32) column."""
    return msgspec.Meta(max_length=max_length, pattern=SINGLE_LINE_PATTERN)


def free_text(max_length: int) -> msgspec.Meta:
    """Multi-line free text (a note, a summary): line breaks and tabs allowed."""
    return msgspec.Meta(max_length=max_length, pattern=FREE_TEXT_PATTERN)


#: A name (student, guardian, hospital, campaign): ≤ 200 (the name columns are String(200)).
Name = Annotated[str, single_line(200)]
#: A short single-line value: ≤ 100.
ShortText = Annotated[str, single_line(100)]
#: An identifier a client names something by (an access code, an instrument or item id, a
#: school code): ≤ 64, one line. The service checks it against what exists.
Code = Annotated[str, single_line(64)]
#: A kind/action/status word: ≤ 48 (the ``kind`` columns are String(48)).
Kind = Annotated[str, single_line(48)]
#: A note or summary: ≤ 4,000 characters, line breaks allowed.
Text = Annotated[str, free_text(4000)]
#: A long report (incident reviews need at least 3,000 characters): ≤ 20,000.
LongText = Annotated[str, free_text(20_000)]


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of every request body: unknown fields are an error, not ignored."""
