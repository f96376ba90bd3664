"""The student's screening as a sequence of pages, resumable from a signed cookie.

The session id and its token travel in a signed, HttpOnly, SameSite=Lax cookie (Secure over
https), so closing the tab and opening the access link again resumes the same session without
rotating its token. Partial answers live on the server (``ScreeningSession.partial_answers``,
written only through :func:`screening.save_partial`). Without the cookie (another device), the
page starts or resumes through :func:`screening.start_session`, which issues a new token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar.datastructures import Cookie

from instruments import Instrument
from survey_service.db import AsyncSession
from survey_service.errors import BadRequest
from survey_service.pages._web import AnyRequest, secret_cookie, sign, unsign
from survey_service.screening import reads
from survey_service.screening import service as screening
from survey_service.screening.saved_answers import AUTHORITATIVE_SEQ, Stamp
from survey_service.screening.schemas import HelpContact, InstrumentOut, SubmissionRequest
from survey_service.services.runtime import Runtime

STUDENT_COOKIE = "rx_s"
_PURPOSE = "student-session"
# The page form submits with one idempotency key per session: a repeat (double click, reload)
# replays the first reply instead of answering twice.
PAGE_IDEMPOTENCY_KEY = "page-submit"


@dataclass
class Flow:
    """Where a student stands: the session, its battery in the page language, saved answers."""

    session_id: uuid.UUID
    token: str
    status: str
    battery: list[InstrumentOut]
    saved: dict[str, dict[str, Any]]
    contacts: list[HelpContact]
    counsellors: list[tuple[str, str | None]]
    notice: bool
    version: int = 0  # the save counter when this flow was read (a page's ``view``)
    respondent: str = "self"  # "parent": the guardian answers the guardian battery
    cookies: list[Cookie] = field(default_factory=list)

    @property
    def guardian(self) -> bool:
        """Whether the guardian (not the student) is answering, about the student."""
        return self.respondent == "parent"

    def answered(self, instrument_id: str) -> int:
        return sum(1 for v in self.saved.get(instrument_id, {}).values() if v is not None)

    def done(self, part: InstrumentOut) -> bool:
        """Whether the student went past this part (every item saved, ``None`` if skipped)."""
        saved = self.saved.get(part.instrument_id, {})
        return all(item.item_id in saved for item in part.items)

    def next_step(self) -> int | None:
        """The first part (1-based) the student has not gone past, or ``None`` when all."""
        for n, part in enumerate(self.battery, start=1):
            if not self.done(part):
                return n
        return None


def clean_code(code: str) -> str:
    """An access code as typed, reduced to what may appear in an address."""
    return "".join(ch for ch in code if ch.isalnum() or ch == "-")[:64] or "-"


def _cookie(
    request: AnyRequest,
    rt: Runtime,
    session_id: uuid.UUID,
    token: str,
    expires_at: datetime,
    now: datetime,
) -> Cookie:
    return secret_cookie(
        request,
        STUDENT_COOKIE,
        sign(rt.settings.secret_key, _PURPOSE, f"{session_id}:{token}"),
        path="/s",
        max_age=int((expires_at - now).total_seconds()),
        samesite="lax",
    )


def _from_cookie(request: AnyRequest, rt: Runtime) -> tuple[uuid.UUID, str] | None:
    value = unsign(rt.settings.secret_key, _PURPOSE, request.cookies.get(STUDENT_COOKIE))
    if value is None or ":" not in value:
        return None
    sid, _, token = value.partition(":")
    try:
        return uuid.UUID(sid), token
    except ValueError:
        return None


async def resume(
    db: AsyncSession,
    rt: Runtime,
    request: AnyRequest,
    code: str,
    lang: str,
    now: datetime,
    *,
    allow_submitted: bool = False,
) -> Flow | None:
    """The session of the cookie, if it belongs to this still-valid access code.

    Reads only (:func:`reads.resumable_session`); the token is not rotated. ``None`` means:
    start (or restart) through :func:`start`, which gives the proper error for a used, expired
    or unknown code.
    """
    held = _from_cookie(request, rt)
    if held is None:
        return None
    session_id, token = held
    view = await reads.resumable_session(
        db,
        rt,
        session_id=session_id,
        token=token,
        code=code,
        lang=lang,
        now=now,
        allow_submitted=allow_submitted,
    )
    return None if view is None else _flow(view, token)


async def start(
    db: AsyncSession, rt: Runtime, request: AnyRequest, code: str, lang: str, now: datetime
) -> Flow:
    """Start or resume through the service (a new token) and hand out the cookie."""
    _, started = await screening.start_session(db, rt, access_code=code, language=lang, now=now)
    flow = _flow(await reads.session_view(db, rt, started.session_id, lang), started.session_token)
    flow.cookies.append(
        _cookie(request, rt, started.session_id, started.session_token, started.expires_at, now)
    )
    return flow


def _flow(view: reads.SessionView, token: str) -> Flow:
    return Flow(
        session_id=view.session_id,
        token=token,
        status=view.status,
        battery=list(view.battery),
        saved={k: dict(v) for k, v in view.saved.items()},
        contacts=list(view.contacts),
        counsellors=list(view.counsellors),
        notice=view.notice,
        version=view.version,
        respondent=view.respondent,
    )


def parse_part(part: InstrumentOut, form: dict[str, str], *, complete: bool) -> dict[str, Any]:
    """The answers of one part from its form: an option value per item given.

    With ``complete`` (the student pressed Next), an item left out is saved as ``None``: it
    was skipped on purpose, and resuming starts after this part. Values that are not whole
    numbers are passed on as text, so the service names the item in its error.
    """
    answers: dict[str, Any] = {}
    for item in part.items:
        raw = form.get(f"item-{item.item_id}", "").strip()
        if not raw:
            if complete:
                answers[item.item_id] = None
        elif raw.lstrip("-").isdigit():
            answers[item.item_id] = int(raw)
        else:
            answers[item.item_id] = raw
    return answers


# Flags whose items are critical questions: a blank one is asked about once (issue 11).
_CRITICAL_FLAG_SEVERITIES = frozenset({"acute", "critical", "follow_up"})


def critical_items(instrument: Instrument) -> frozenset[str]:
    """The items of ``instrument`` that its critical flags are about.

    An item named by an acute, critical or follow-up flag (PHQ-9/PHQ-A item 9, the PHQ-A's
    suicide questions, ASQ q1–q4); a flag decided on the form's band (ASQ positive and acute)
    makes every scored item critical (ASQ q1–q5).
    """
    items: set[str] = set()
    for flag in instrument.scoring.flags:
        if flag.severity not in _CRITICAL_FLAG_SEVERITIES:
            continue
        if flag.item is not None:
            items.add(flag.item)
        else:
            items.update(instrument.scoring.scored_items)
    return frozenset(items)


def blank_critical(
    instrument: Instrument, part: InstrumentOut, form: dict[str, str], saved: dict[str, Any]
) -> list[str]:
    """Critical items of this part the student left blank on the form, in form order, that
    were not already skipped on purpose (saved as ``None`` by an earlier Next)."""
    critical = critical_items(instrument)
    return [
        item.item_id
        for item in part.items
        if item.item_id in critical
        and not form.get(f"item-{item.item_id}", "").strip()
        and not (item.item_id in saved and saved[item.item_id] is None)
    ]


def parse_stamp(form: dict[str, str]) -> Stamp | None:
    """The save's stamp from the form: ``view`` (rendered into the page) and ``seq`` (set by
    the page's script; absent without JavaScript, when the post is the page's only save).

    Without ``view`` (a page rendered before stamps existed) the save is the latest one.
    """
    view, seq = form.get("view", "").strip(), form.get("seq", "").strip()
    if not view:
        return None
    try:
        return Stamp(int(view), int(seq) if seq else AUTHORITATIVE_SEQ)
    except ValueError as exc:
        raise BadRequest(
            f"The form's view and seq must be whole numbers: {exc}", code="invalid_form"
        ) from exc


async def save(
    db: AsyncSession,
    rt: Runtime,
    flow: Flow,
    answers: dict[str, dict[str, Any]],
    now: datetime,
    stamp: Stamp | None,
) -> None:
    """Save one part's answers through the service (checked against the item's options)."""
    state = await screening.save_partial(
        db,
        rt,
        session_id=flow.session_id,
        session_token=flow.token,
        answers=answers,
        now=now,
        stamp=stamp,
    )
    flow.saved = {k: dict(v) for k, v in state.answers.items()}
    flow.version = state.version


async def submit(db: AsyncSession, rt: Runtime, flow: Flow, now: datetime) -> None:
    """Submit what is saved; a repeat replays the first reply.

    The page sends no answers of its own: the service scores what is saved, read under the
    session's lock in the submitting transaction, so an answer saved a moment before the
    student pressed Submit is never left out (the review page shows this same saved state).
    """
    await screening.submit(
        db,
        rt,
        session_id=flow.session_id,
        session_token=flow.token,
        idempotency_key=PAGE_IDEMPOTENCY_KEY,
        request=SubmissionRequest(answers={part.instrument_id: {} for part in flow.battery}),
        now=now,
    )
