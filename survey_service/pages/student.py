"""Student pages: enter a code, answer the battery, see a thank-you with help contacts.

The pages call the same service functions as the JSON API; they never show a score or tier.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from ..api.schemas import SubmissionRequest
from ..clock import Clock
from ..db import AsyncSession
from ..errors import ServiceError
from ..services import screening
from ..services.help_contacts import help_contacts
from ..services.runtime import Runtime
from .i18n import TEXT, language


def _page(name: str, lang: str, status: int = 200, **context: Any) -> Template:
    context.setdefault("contacts", help_contacts(None))
    return Template(
        template_name=name,
        context={
            "lang": lang,
            "t": TEXT[lang],
            "other_lang": "en" if lang == "zh-CN" else "zh-CN",
            **context,
        },
        status_code=status,
    )


def _error(exc: ServiceError, lang: str, back: str) -> Template:
    message = (exc.message or {}).get(lang, exc.detail)
    return _page("student_error.html", lang, status=exc.status, message=message, back=back)


@get("/", include_in_schema=False)
async def entry(lang: FromQuery[str | None] = None) -> Template:
    return _page("student_entry.html", language(lang))


@post("/s", include_in_schema=False, status_code=303)
async def entry_submit(data: URLEncodedBody[dict[str, str]]) -> Redirect:
    lang = language(data.get("lang"))
    code = "".join(ch for ch in data.get("access_code", "") if ch.isalnum() or ch == "-")
    return Redirect(path=f"/s/{code or '-'}?lang={lang}", status_code=303)


@get("/s/{code:str}", include_in_schema=False)
async def questionnaire(
    code: FromPath[str],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
    lang: FromQuery[str | None] = None,
) -> Template:
    lang = language(lang)
    try:
        _, started = await screening.start_session(
            db, rt, access_code=code, language=lang, now=clock.now()
        )
    except ServiceError as exc:
        return _error(exc, lang, back=f"/?lang={lang}")
    return _page(
        "student_form.html",
        lang,
        session=started,
        code=code,
        idempotency_key=uuid.uuid4().hex,
        contacts=started.help_contacts,
    )


@post("/s/{code:str}/submit", include_in_schema=False, status_code=200)
async def questionnaire_submit(
    code: FromPath[str],
    data: URLEncodedBody[dict[str, str]],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> Response[Any]:
    lang = language(data.get("lang"))
    answers: dict[str, dict[str, Any]] = {}
    for instrument_id in data.get("instruments", "").split(","):
        if instrument_id:
            answers[instrument_id] = {}
    for key, value in data.items():
        if ":" in key:
            instrument_id, item_id = key.split(":", 1)
            answers.setdefault(instrument_id, {})[item_id] = (
                int(value) if value.isdigit() else value
            )
    try:
        session_id = uuid.UUID(data.get("session_id", ""))
        _, receipt = await screening.submit(
            db,
            rt,
            session_id=session_id,
            session_token=data.get("session_token"),
            idempotency_key=data.get("idempotency_key"),
            request=SubmissionRequest(answers=answers),
            now=clock.now(),
        )
    except ServiceError as exc:
        return _error(exc, lang, back=f"/s/{code}?lang={lang}")
    except ValueError:
        return _page(
            "student_error.html",
            lang,
            status=400,
            message=TEXT[lang]["error_title"],
            back=f"/s/{code}?lang={lang}",
        )
    return _page(
        "student_thanks.html", lang, message=receipt.message[lang], contacts=receipt.help_contacts
    )
