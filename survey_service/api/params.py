"""Constrained path, query and header parameters of the JSON API.

Strings a client puts in a URL or a header are checked like body fields (see
:mod:`survey_service.schemas`): a maximum length no longer than the column they are looked up
in, and no control characters, so a ``%00`` in a school code is a 400 naming the parameter,
never a database error.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter

from survey_service.schemas import SINGLE_LINE_PATTERN

__all__ = ["CalendarLabel", "IdempotencyKey", "QueryFlag", "QueryWord", "SchoolCode"]

#: A school's code in a path (``School.code`` is String(32)).
SchoolCode = Annotated[str, PathParameter(max_length=32, pattern=SINGLE_LINE_PATTERN)]
#: A school year's label in a path, e.g. ``2026-2027`` (String(16)).
CalendarLabel = Annotated[str, PathParameter(max_length=16, pattern=SINGLE_LINE_PATTERN)]
#: A short word in a query string (a language, a respondent): ≤ 16.
QueryWord = Annotated[str, QueryParameter(max_length=16, pattern=SINGLE_LINE_PATTERN)]
#: A yes/no switch in a query string (``true``/``false``, ``1``/``0``).
QueryFlag = Annotated[bool, QueryParameter()]
#: The ``Idempotency-Key`` header of a submission (stored in a String(200) column).
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=200, pattern=SINGLE_LINE_PATTERN),
]
