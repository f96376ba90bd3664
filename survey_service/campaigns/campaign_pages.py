"""One campaign's pages (issue 13), under ``/staff/admin/campaigns/{campaign_id}``. Plain HTML
forms, no script; a campaign of another school answers 404 like a missing one.

* the campaign page (``campaigns.page``): window, status, and per class the counts, with links
  to print the class's slips and to its non-completers, and the reminder buttons;
* ``…/classes/{class_id}/slips`` (``slips.print``): GET says how many slips printing makes and
  how many unused codes printed earlier it voids (nothing is voided on GET); the POST prints —
  the printable slips exactly as ``POST /api/v1/…/slips`` returns them — only with the
  confirmation (and the number of codes to void the user saw); otherwise the confirmation page
  again;
* ``…/consents`` (``consent.record``): find a student by name or number (paged) and record the
  guardian's decision; ``…/consents/preview`` and ``…/consents/import``: a spreadsheet of
  decisions, previewed row by row, then applied in one transaction (nothing while a row has a
  problem);
* ``…/classes/{class_id}/non-completers`` (``completion.read``): the class's students without
  a submission, by student number, searchable and paged;
* ``…/reminders`` (``reminders.send``): remind the head teachers of one class or of every class
  not finished (see :mod:`.reminders`); a class reminded in the last hour answers a 409 page.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.campaigns import consent_import, consents, reminders
from survey_service.campaigns import service as campaigns
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Conflict, Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import (
    SECURITY_HEADERS,
    AnyRequest,
    local_time,
    redirect,
    request_language,
)
from survey_service.pages.i18n import LABELS, TEXT, label
from survey_service.services.paging import paginate, search_text
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Rt = NamedDependency[Runtime]
Form = URLEncodedBody[dict[str, str]]
CampaignId = FromPath[uuid.UUID]
ClassId = FromPath[uuid.UUID]

BASE = "/staff/admin/campaigns"
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx")


def _campaign_url(campaign_id: uuid.UUID, tail: str = "") -> str:
    return f"{BASE}/{campaign_id}{tail}"


def _count(value: str | None) -> int:
    """A count from the query string (a result shown after a redirect); 0 when unusable."""
    return int(value) if value and value.isdigit() and len(value) < 7 else 0


def _message(exc: Exception, lang: str) -> str:
    message = getattr(exc, "message", None) or {}
    return str(message.get(lang) or getattr(exc, "detail", None) or exc)


def _page(request: AnyRequest, name: str, sess: ss.StaffSession, **context: Any) -> Template:
    """A page of this slice: the school's time zone formatter and the labels."""
    campaign = context.get("campaign")
    tz = campaign.timezone if campaign is not None else "Asia/Shanghai"
    return ss.page(request, name, sess, label=label, when=lambda v: local_time(v, tz), **context)


def _reminded_notice(request: AnyRequest) -> list[str]:
    """What the last reminder did (after its redirect), as sentences in the page's language."""
    q = request.query_params
    heads = _count(q.get("reminded"))
    if not heads:
        return []
    lang = request_language(request)
    t = TEXT[lang]
    lines = [t["cd_reminded"].format(heads, _count(q.get("classes")))]
    if _count(q.get("skipped")):
        lines.append(t["cd_reminded_skipped"].format(_count(q.get("skipped"))))
    if _count(q.get("nohead")):
        lines.append(t["cd_reminded_no_head"].format(_count(q.get("nohead"))))
    channel = q.get("channel", "")
    if channel in LABELS["channel"]:
        lines.append(t["cd_reminded_channel"].format(label("channel", channel, lang)))
    return lines


# --------------------------------------------------------------------------- the campaign page


@get("/admin/campaigns/{campaign_id:uuid}", opt={"permission": "campaigns.page"})
async def campaign_page(
    request: AnyRequest, campaign_id: CampaignId, sess: Sess, db: Db, clock: Now
) -> Template:
    user = ss.require(sess, "campaigns.page")
    view = await reminders.campaign_progress(db, user, campaign_id, now=clock.now())
    return _page(
        request,
        "staff_admin_campaign_detail.html",
        sess,
        view=view,
        campaign=view.campaign,
        notice=_reminded_notice(request),
    )


# --------------------------------------------------------------------------- slips


def _slips_url(campaign_id: uuid.UUID, class_id: uuid.UUID) -> str:
    return _campaign_url(campaign_id, f"/classes/{class_id}/slips")


async def _slips_confirmation(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    clock: Clock,
    campaign_id: uuid.UUID,
    class_id: uuid.UUID,
    respondent: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Template:
    preview = await reminders.slip_preview(
        db, sess.user, campaign_id, class_id, respondent=respondent, now=clock.now()
    )
    return _page(
        request,
        "staff_admin_campaign_slips.html",
        sess,
        preview=preview,
        campaign=preview.campaign,
        action=_slips_url(campaign_id, class_id),
        error=error,
        status=status,
    )


@get(
    "/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips",
    opt={"permission": "slips.print"},
)
async def slips_confirm(
    request: AnyRequest,
    campaign_id: CampaignId,
    class_id: ClassId,
    sess: Sess,
    db: Db,
    clock: Now,
) -> Template:
    """The confirmation: how many slips printing makes and how many unused codes it voids.
    Reads only: nothing is printed or voided here."""
    ss.require(sess, "slips.print")
    respondent = "parent" if request.query_params.get("respondent") == "parent" else "self"
    return await _slips_confirmation(request, sess, db, clock, campaign_id, class_id, respondent)


@post(
    "/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips",
    status_code=200,
    opt={"permission": "slips.print"},
)
async def slips_print(
    request: AnyRequest,
    campaign_id: CampaignId,
    class_id: ClassId,
    data: Form,
    sess: Sess,
    db: Db,
    clock: Now,
    rt: Rt,
) -> Template | Response[str]:
    """Print (the slips page, as the API returns it) only with the confirmation field; the
    codes to void must be those the user was shown (``seen_void``), else the confirmation
    page again with the new numbers and nothing printed."""
    user = ss.require(sess, "slips.print")
    lang = request_language(request)
    t = TEXT[lang]
    respondent = "parent" if data.get("respondent") == "parent" else "self"
    preview = await reminders.slip_preview(
        db, user, campaign_id, class_id, respondent=respondent, now=clock.now()
    )
    seen = data.get("seen_void", "")
    error = None
    if preview.campaign.status == "closed" or not preview.to_print:
        # The page says why there is nothing to print; nothing is voided.
        return await _slips_confirmation(
            request, sess, db, clock, campaign_id, class_id, respondent, status=409
        )
    if data.get("confirm") != "yes" or not seen.isdigit():
        error = t["cd_slips_confirm_missing"]
    elif int(seen) != preview.to_void:
        error = t["cd_slips_changed"]
    if error is not None:
        return await _slips_confirmation(
            request, sess, db, clock, campaign_id, class_id, respondent, error=error, status=422
        )
    html = await campaigns.class_slips(
        db,
        user,
        campaign_id,
        class_id,
        base_url=rt.settings.base_url,
        secret_key=rt.settings.secret_key,
        lang=lang,
        now=clock.now(),
        respondent=respondent,
        void_unused=True,  # the user confirmed exactly this many (checked above)
    )
    return Response(html, media_type=MediaType.HTML, headers=dict(SECURITY_HEADERS))


# --------------------------------------------------------------------------- consent


def _consents_url(campaign_id: uuid.UUID, **query: str) -> str:
    kept = {k: v for k, v in query.items() if v}
    tail = f"?{urlencode(kept)}" if kept else ""
    return _campaign_url(campaign_id, f"/consents{tail}")


async def _consent_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    clock: Clock,
    campaign_id: uuid.UUID,
    *,
    query: str,
    selected: uuid.UUID | None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    upload_error: str | None = None,
    status: int = 200,
) -> Template:
    view = await consent_import.consent_list(
        db, sess.user, campaign_id, query=query, selected=selected, now=clock.now()
    )
    params = {"q": query} if query else {}
    paged = paginate(
        view.rows,
        _campaign_url(campaign_id, "/consents"),
        {**params, "page": request.query_params.get("page", "")},
    )
    lang = request_language(request)
    saved = None
    q = request.query_params
    if q.get("saved") in consent_import.DECISIONS and view.selected is not None:
        saved = TEXT[lang]["cd_consent_saved"].format(
            view.selected.name, label("cd_decision", q.get("saved"), lang)
        )
    imported = _count(q.get("imported")) if "imported" in q else None
    return _page(
        request,
        "staff_admin_campaign_consents.html",
        sess,
        view=view,
        campaign=view.campaign,
        paged=paged,
        query=query,
        form=form or {},
        error=error,
        upload_error=upload_error,
        saved=saved,
        imported=imported,
        methods=consents.VERIFICATION_METHODS,
        decisions=consent_import.DECISIONS,
        status=status,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@get("/admin/campaigns/{campaign_id:uuid}/consents", opt={"permission": "consent.record"})
async def consents_page(
    request: AnyRequest, campaign_id: CampaignId, sess: Sess, db: Db, clock: Now
) -> Template:
    """Search (paged) and, for the student chosen (``?student=``), the decision form."""
    ss.require(sess, "consent.record")
    q = request.query_params
    return await _consent_page(
        request,
        sess,
        db,
        clock,
        campaign_id,
        query=search_text(q.get("q")),
        selected=_uuid(q.get("student")),
    )


@post(
    "/admin/campaigns/{campaign_id:uuid}/consents",
    status_code=303,
    opt={"permission": "consent.record"},
)
async def consent_save(
    request: AnyRequest,
    campaign_id: CampaignId,
    data: Form,
    sess: Sess,
    db: Db,
    clock: Now,
    rt: Rt,
) -> Template | Redirect:
    """Record one decision; a bad form comes back (422) with the message and the values as
    typed, nothing stored. A withdrawal that cannot be (409) comes back the same way."""
    user = ss.require(sess, "consent.record")
    query = search_text(data.get("q"))
    try:
        decision = await consent_import.record_decision(
            db,
            user,
            campaign_id,
            student_id=data.get("student_id", ""),
            decision=data.get("decision", ""),
            guardian_name=data.get("guardian_name", ""),
            method=data.get("method", ""),
            reason=data.get("reason", ""),
            rt=rt,
            now=clock.now(),
        )
    except (Unprocessable, Conflict) as exc:
        return await _consent_page(
            request,
            sess,
            db,
            clock,
            campaign_id,
            query=query,
            selected=_uuid(data.get("student_id")),
            form=dict(data),
            error=_message(exc, request_language(request)),
            status=exc.status,
        )
    # The student's id, never their name, in the address: it shows the decision just saved.
    student = data.get("student_id", "")
    return redirect(_consents_url(campaign_id, q=query, student=student, saved=decision))


def _sheet_fields(preview: consent_import.ImportPreview) -> list[tuple[str, str]]:
    """The hidden fields that carry the previewed rows to the confirmation."""
    return [
        (f"r{i}", f"{r.row}:{r.decision or ''}:{r.student_number}")
        for i, r in enumerate(preview.rows)
    ]


def _sheet_from_form(form: dict[str, str]) -> list[consent_import.SheetRow]:
    rows = []
    for i in range(min(_count(form.get("rows")), consent_import.MAX_ROWS)):
        row, _, rest = form.get(f"r{i}", "").partition(":")
        value, _, number = rest.partition(":")
        rows.append(consent_import.SheetRow(row=_count(row), student_number=number, value=value))
    return rows


def _preview_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    preview: consent_import.ImportPreview,
    *,
    status: int,
) -> Template:
    return _page(
        request,
        "staff_admin_campaign_consent_preview.html",
        sess,
        preview=preview,
        campaign=preview.campaign,
        carried=_sheet_fields(preview) if not preview.problems and preview.to_apply else [],
        status=status,
    )


@post(
    "/admin/campaigns/{campaign_id:uuid}/consents/preview",
    status_code=200,
    opt={"permission": "consent.record"},
)
async def consents_preview(
    request: AnyRequest, campaign_id: CampaignId, sess: Sess, db: Db, clock: Now
) -> Template:
    """Step 1 of a spreadsheet: every row with what it would record or its problem; nothing
    is written. A clean file comes with the confirmation form carrying its rows."""
    user = ss.require(sess, "consent.record")
    lang = request_language(request)
    t = TEXT[lang]
    form = await request.form()
    upload = form.get("file")
    error = None
    sheet: list[consent_import.SheetRow] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = t["cd_upload_missing"]
    elif Path(upload.filename).suffix.lower() not in UPLOAD_SUFFIXES:
        error = t["cd_upload_type"]
    else:
        content = await upload.read()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"consents{Path(upload.filename).suffix.lower()}"
            path.write_bytes(content)
            try:
                sheet = consent_import.read_consent_file(path)
            except Unprocessable as exc:
                error = _message(exc, lang)
    if error is not None:
        return await _consent_page(
            request,
            sess,
            db,
            clock,
            campaign_id,
            query="",
            selected=None,
            upload_error=error,
            status=422,
        )
    preview = await consent_import.preview_import(db, user, campaign_id, sheet, now=clock.now())
    return _preview_page(request, sess, preview, status=422 if preview.problems else 200)


@post(
    "/admin/campaigns/{campaign_id:uuid}/consents/import",
    status_code=303,
    opt={"permission": "consent.record"},
)
async def consents_import(
    request: AnyRequest, campaign_id: CampaignId, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Step 2: record every previewed row in one transaction — checked again, and nothing
    written while any row has a problem (the preview again, 422)."""
    user = ss.require(sess, "consent.record")
    sheet = _sheet_from_form(data)
    preview, applied = await consent_import.apply_import(
        db, user, campaign_id, sheet, now=clock.now()
    )
    if not applied:  # a row with a problem, or nothing to change: nothing written
        return _preview_page(request, sess, preview, status=422 if preview.problems else 200)
    return redirect(_consents_url(campaign_id, imported=str(len(preview.to_apply))))


# --------------------------------------------------------------------------- non-completers


@get(
    "/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/non-completers",
    opt={"permission": "completion.read"},
)
async def non_completers_page(
    request: AnyRequest,
    campaign_id: CampaignId,
    class_id: ClassId,
    sess: Sess,
    db: Db,
    clock: Now,
) -> Template:
    """The class's students without a submission, by student number (never by a score)."""
    user = ss.require(sess, "completion.read")
    view = await reminders.class_non_completers(db, user, campaign_id, class_id, now=clock.now())
    query = search_text(request.query_params.get("q"))
    folded = query.casefold()
    rows = [
        r
        for r in view.rows
        if not folded or folded in r.name.casefold() or folded in r.student_number.casefold()
    ]
    path = _campaign_url(campaign_id, f"/classes/{class_id}/non-completers")
    paged = paginate(rows, path, {"q": query, "page": request.query_params.get("page", "")})
    return _page(
        request,
        "staff_admin_campaign_non_completers.html",
        sess,
        view=view,
        campaign=view.campaign,
        paged=paged,
        query=query,
        notice=_reminded_notice(request),
    )


# --------------------------------------------------------------------------- reminders


@post(
    "/admin/campaigns/{campaign_id:uuid}/reminders",
    status_code=303,
    opt={"permission": "reminders.send"},
)
async def reminders_send(
    campaign_id: CampaignId, data: Form, sess: Sess, db: Db, clock: Now, rt: Rt
) -> Redirect:
    """Remind one class's head teacher (``class_id``) or those of every class not finished.
    A class reminded in the last hour: the 409 page saying when it may be reminded again."""
    user = ss.require(sess, "reminders.send")
    class_id = _uuid(data.get("class_id"))
    result = await reminders.send_reminders(
        db, user, campaign_id, class_id, base_url=rt.settings.base_url, now=clock.now()
    )
    query = urlencode(
        {
            "reminded": result.head_teachers,
            "classes": result.classes,
            "skipped": result.skipped_recent,
            "nohead": result.without_head,
            "channel": result.channel,
        }
    )
    if class_id is not None and data.get("back") == "class":
        return redirect(_campaign_url(campaign_id, f"/classes/{class_id}/non-completers?{query}"))
    return redirect(_campaign_url(campaign_id, f"?{query}"))


ROUTES: list[Any] = [
    campaign_page,
    slips_confirm,
    slips_print,
    consents_page,
    consent_save,
    consents_preview,
    consents_import,
    non_completers_page,
    reminders_send,
]
