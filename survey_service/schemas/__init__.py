"""The shared base of the wire formats (msgspec Structs; never ORM rows).

Each feature slice keeps its own wire formats in its ``schemas`` module (``screening.schemas``,
``cases.schemas``, …); this package holds what they share: the request base class, which
refuses unknown fields, and the page languages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = ["AwareDatetime", "Language", "Request"]

Language = Literal["zh-CN", "en"]
#: A timestamp a client sends: it must carry its zone (``2026-09-07T10:00:00+08:00`` or ``…Z``);
#: a bare local time is refused with a 400 naming the field, never stored as a guess.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of every request body: unknown fields are an error, not ignored."""
