"""Pagination and search for staff lists (issue 13): every list shows at most ``PER_PAGE`` rows,
with "previous" and "next" links that keep the list's other query parameters.

Lists stay in their own order (a deadline, a name, a class) — never by score; paging only cuts
the already ordered rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

PER_PAGE = 50
MAX_SEARCH = 50


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list: its rows, where it sits and the links to its neighbours."""

    items: Sequence[T]
    page: int
    pages: int
    total: int
    prev_url: str | None
    next_url: str | None

    per_page: int = PER_PAGE

    @property
    def first_index(self) -> int:
        """1-based position of the first row shown (0 when the list is empty)."""
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0


def page_number(value: str | None) -> int:
    """The ``page`` query parameter as a page number; anything unusable is page 1."""
    try:
        number = int(value or "1")
    except ValueError:
        return 1
    return max(1, min(number, 1_000_000))


def search_text(value: str | None) -> str:
    """A search box's text: whitespace collapsed, at most ``MAX_SEARCH`` characters."""
    return " ".join((value or "").split())[:MAX_SEARCH]


def paginate(
    rows: Sequence[T],
    path: str,
    query: Mapping[str, str],
    *,
    per_page: int = PER_PAGE,
    param: str = "page",
) -> Paged[T]:
    """The page of ``rows`` that ``query[param]`` asks for (the last page when past the end);
    the links keep every other non-empty query parameter.

    ``param`` names the page parameter, so that two lists on one page (a head teacher's
    students not finished and students under care) page on their own.
    """
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}")
    total = len(rows)
    pages = max(1, -(-total // per_page))
    page = min(page_number(query.get(param)), pages)
    kept = {k: v for k, v in query.items() if k != param and v}

    def link(number: int) -> str:
        params = {**kept, param: str(number)} if number > 1 else kept
        return f"{path}?{urlencode(params)}" if params else path

    start = (page - 1) * per_page
    return Paged(
        items=rows[start : start + per_page],
        page=page,
        pages=pages,
        total=total,
        prev_url=link(page - 1) if page > 1 else None,
        next_url=link(page + 1) if page < pages else None,
        per_page=per_page,
    )
