"""Wire formats of a school's settings."""

from __future__ import annotations

from datetime import datetime

import msgspec


class CalendarOut(msgspec.Struct, frozen=True):
    """A school year's stored calendar."""

    school_code: str
    label: str
    first_day: str
    last_day: str
    updated_at: datetime
