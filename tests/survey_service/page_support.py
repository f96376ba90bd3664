"""Helpers for the page tests: a no-JavaScript student and a signed-in staff member over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

SCORE_WORDS = ("score", "得分", "分数", "总分", "band", "分段", "tier", "minimal", "moderate")


def text_of(html: str) -> str:
    """What a reader sees (and attribute values they could find): the page without its style
    sheet and script, tags removed, lower-case."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html).lower()


def no_scores(html: str) -> list[str]:
    """Score, band or tier words found in the visible text of a page (should be none)."""
    text = text_of(html)
    return [w for w in SCORE_WORDS if w in text]


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def item_names(html: str) -> list[str]:
    """The radio groups of a part page, in order."""
    return list(dict.fromkeys(re.findall(r'name="(item-[^"]+)"', html)))


def answer(
    http: httpx.Client,
    code: str,
    n: int,
    values: dict[str, int] | None = None,
    *,
    default: int | None = 0,
    nav: str = "next",
) -> httpx.Response:
    """Post part ``n`` as a browser without JavaScript would (follows the redirect): answers
    already checked on the page stay, ``values`` change them, ``default`` fills the rest
    (``None``: left out)."""
    page = http.get(f"/s/{code}/q/{n}")
    assert page.status_code == 200, page.text
    checked = dict(re.findall(r'name="(item-[^"]+)" value="(\d+)" checked', page.text))
    form: dict[str, str] = {"nav": nav}
    for name in item_names(page.text):
        value = (values or {}).get(name.removeprefix("item-"))
        if value is not None:
            form[name] = str(value)
        elif name in checked:
            form[name] = checked[name]
        elif default is not None:
            form[name] = str(default)
    return http.post(f"/s/{code}/q/{n}", data=form)


def complete(
    http: httpx.Client, code: str, parts: list[dict[str, int] | None] | None = None
) -> httpx.Response:
    """Open the access link, answer every part (all 0 unless given), submit."""
    first = http.get(f"/s/{code}")
    assert first.status_code == 200, first.text
    for n, values in enumerate(parts or [None, None, None], start=1):
        answer(http, code, n, values)
    return http.post(f"/s/{code}/submit")


def staff_login(http: httpx.Client, username: str, password: str = "pw-test-123") -> httpx.Response:
    form = http.get("/staff/login")
    return http.post(
        "/staff/login",
        data={"_csrf": hidden(form.text, "_csrf"), "username": username, "password": password},
    )


def csrf(html: str) -> str:
    return hidden(html, "_csrf")


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    """Every ``Set-Cookie`` for ``name`` in the redirect chain of ``response``."""
    found = []
    for r in [*response.history, response]:
        found += [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return found


def api_submit(http: httpx.Client, code: str, answers: dict[str, Any]) -> None:
    s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
    r = http.post(
        f"/api/v1/student/sessions/{s['session_id']}/submission",
        headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
        json={"answers": answers},
    )
    assert r.status_code == 201, r.text


def sql(database_url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one SQL statement against the test database (rows for a SELECT). UUID parameters
    are bound as UUIDs (hex text on SQLite, uuid on PostgreSQL); compare ids with :func:`uid`."""
    import asyncio
    import uuid

    from sqlalchemy import Uuid, bindparam, text

    from survey_service.db import create_engine

    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                query = text(statement).bindparams(
                    *(
                        bindparam(k, type_=Uuid)
                        for k, v in params.items()
                        if isinstance(v, uuid.UUID)
                    )
                )
                result = await conn.execute(query, params)
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(go())


def uid(value: Any) -> str:
    """An id from a page or a raw SQL row, in one spelling."""
    import uuid

    return str(uuid.UUID(str(value)))
