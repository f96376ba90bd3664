"""The shared base of the wire formats (msgspec Structs; never ORM rows).

Each feature slice keeps its own wire formats in its ``schemas`` module (``screening.schemas``,
``cases.schemas``, …); this package holds what they share: the request base class, which
refuses unknown fields, and the page languages.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["Language", "Request"]

Language = Literal["zh-CN", "en"]


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of every request body: unknown fields are an error, not ignored."""
