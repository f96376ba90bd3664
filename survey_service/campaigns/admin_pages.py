"""The campaign administration pages (issue 13): the school's campaigns, the campaign wizard and
the roster upload with its preview. Plain HTML forms, no script.

* ``/staff/admin/campaigns``: the school's campaigns, newest window first, with their window,
  status, who answers and how far each got (:mod:`.listing`); paged.
* ``/staff/admin/campaigns/new``: one form (name, window in school days, a battery per grade of
  the roster, the consent rule, the guardian questionnaire) sent to the same service as
  ``POST /api/v1/campaigns``. A refusal comes back as a 422 page naming the field, with the
  values as typed; nothing is stored. Success goes to the campaign's page.
* ``/staff/admin/roster``: step 1 uploads a CSV/XLSX file and previews it (the same import as
  ``POST /api/v1/schools/{code}/roster``, nothing written); step 2 applies *that* file. The
  preview page carries the file to the confirmation itself (compressed, base64, in a hidden
  field of a multipart form, with its SHA-256 and an HMAC binding both to the user, the mode and
  the file type), so the school never uploads it twice and cannot apply a file it did not
  preview. The carried form must fit the request size limit the API uses
  (``Settings.max_body_bytes``); a file whose carried form would not is refused at the preview.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from survey_service.campaigns import listing, roster_import
from survey_service.campaigns import service as campaigns
from survey_service.campaigns.validity import age_range_text
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.errors import Conflict, Unprocessable, handle_http_exception
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, redirect, request_language, school_year_of
from survey_service.pages.i18n import LANGUAGES, TEXT, label
from survey_service.pages.texts import campaign_admin as texts
from survey_service.rosters import REQUIRED, SYNONYMS, RosterFileError
from survey_service.services.paging import paginate
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Rt = NamedDependency[Runtime]

CAMPAIGNS = "/staff/admin/campaigns"
ROSTER = "/staff/admin/roster"


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _message(exc: Exception, lang: str) -> str:
    """A service error's text in ``lang`` (its English detail when it has none)."""
    message = getattr(exc, "message", None) or {}
    return str(message.get(lang) or getattr(exc, "detail", None) or exc)


# --------------------------------------------------------------------------- the campaign list


@get("/admin/campaigns", opt={"permission": "campaigns.page"})
async def campaigns_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """The school's campaigns, newest window first, each linking to its own page."""
    user = ss.require(sess, "campaigns.page")
    view = await listing.school_campaigns(db, user, now=clock.now())
    paged = paginate(view.rows, CAMPAIGNS, dict(request.query_params))
    return ss.page(
        request,
        "staff_admin_campaigns.html",
        sess,
        view=view,
        paged=paged,
        pct=_pct,
        label=label,
    )


# --------------------------------------------------------------------------- the campaign wizard


@dataclass
class WizardForm:
    """The wizard's fields as typed (shown again with an error)."""

    name: str = ""
    opens_on: str = ""
    closes_on: str = ""
    batteries: dict[int, list[str]] | None = None
    consent_rule: str = "guardian_under_14"
    statutory_basis: str = ""
    languages: tuple[str, ...] = ("zh-CN", "en")
    allow_fallback: bool = False
    guardian: tuple[str, ...] = ()

    def chosen(self, grade: int) -> list[str]:
        return (self.batteries or {}).get(grade, [])


def _blank_form(options: listing.WizardOptions, lang: str) -> WizardForm:
    start = options.today
    return WizardForm(
        name=TEXT[lang]["cadm_default_name"].format(
            school_year_of(datetime.combine(start, time(12), ZoneInfo(options.timezone)))
        ),
        opens_on=start.isoformat(),
        closes_on=(start + timedelta(days=13)).isoformat(),
        batteries={},
    )


def _typed_form(data: Any, grades: list[int]) -> WizardForm:
    """The form as sent (a multi-valued form: one box per instrument)."""

    def text(name: str) -> str:
        value = data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def many(name: str) -> list[str]:
        return [v.strip() for v in data.getall(name, []) if isinstance(v, str) and v.strip()]

    return WizardForm(
        name=text("name"),
        opens_on=text("opens_on"),
        closes_on=text("closes_on"),
        batteries={grade: many(f"grade_{grade}") for grade in grades},
        consent_rule=text("consent_rule"),
        statutory_basis=text("statutory_basis"),
        languages=tuple(lang for lang in LANGUAGES if lang in many("languages")),
        allow_fallback=bool(text("allow_fallback")),
        guardian=tuple(many("guardian")),
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _campaign_in(
    form: WizardForm, grades: list[int], tz: str, t: dict[str, str]
) -> tuple[campaigns.CampaignIn | None, list[str]]:
    """The service's request from the form, or the problems that stop it being built (each
    naming its field). The window's days are school days: it opens at the start of the first
    day and closes at the end of the last, in the school's time zone."""
    problems = []
    if not form.name:
        problems.append(t["cadm_err_name"])
    first, last = _day(form.opens_on), _day(form.closes_on)
    if first is None:
        problems.append(t["cadm_err_date"].format(t["cadm_opens_on"], form.opens_on))
    if last is None:
        problems.append(t["cadm_err_date"].format(t["cadm_closes_on"], form.closes_on))
    if problems or first is None or last is None:
        return None, problems
    zone = ZoneInfo(tz)
    opens_at = datetime.combine(first, time(0), zone)
    closes_at = datetime.combine(last + timedelta(days=1), time(0), zone)
    raw: dict[str, Any] = {
        "name": form.name,
        "school_year": school_year_of(opens_at, tz),
        "opens_at": opens_at.isoformat(),
        "closes_at": closes_at.isoformat(),
        "batteries": [
            {"grades": [grade], "instruments": form.chosen(grade)}
            for grade in grades
            if form.chosen(grade)
        ],
        "consent_rule": form.consent_rule,
        "languages": list(form.languages),
        "allow_language_fallback": form.allow_fallback,
        "guardian_battery": list(form.guardian),
    }
    if form.statutory_basis:
        raw["statutory_basis"] = form.statutory_basis
    try:
        return msgspec.convert(raw, campaigns.CampaignIn), []
    except msgspec.ValidationError as exc:  # too long, or a control character
        where = re.search(r"\$\.(\w+)", str(exc))
        field = texts.FIELD_KEYS.get(where.group(1) if where else "", "cadm_name")
        return None, [t["cadm_err_value"].format(t[field])]


def _where(found: dict[str, Any], bands: list[int], t: dict[str, str]) -> str:
    """The form field a battery finding is about: a grade's battery, or the guardian one."""
    if found.get("in") == "guardian_battery" or found.get("battery") is None:
        return t["cadm_guardian_where"]
    index = int(found["battery"])
    grade = bands[index] if 0 <= index < len(bands) else None
    return t["cadm_battery_of"].format(t["grade_n"].format(grade)) if grade else t["cadm_battery"]


def _service_problems(exc: Unprocessable, bands: list[int], rt: Runtime, lang: str) -> list[str]:
    """The campaign service's refusal, one message per problem, each naming the form field.

    Battery findings come with their code and details (``validity.Finding.as_dict``): they are
    worded here with the form's names (a grade's battery, the language boxes); the other
    problems are matched by their text (:data:`texts.CAMPAIGN_PROBLEMS`)."""
    t = TEXT[lang]
    found: list[dict[str, Any]] = list(exc.extra.get("errors") or [])
    worded = {str(f.get("message", {}).get("en", "")) for f in found}
    out: list[str] = []
    for problem in exc.extra.get("problems") or [exc.detail]:
        if problem in worded:
            continue
        for pattern, key in texts.CAMPAIGN_PROBLEMS:
            m = re.search(pattern, problem)
            if m is not None:
                out.append(t[key].format(**m.groupdict()))
                break
        else:
            out.append(_message(exc, lang) if not exc.extra.get("problems") else problem)
    for f in found:
        where = _where(f, bands, t)
        instrument = rt.catalogue.get(str(f.get("instrument")), None)
        title = (
            (instrument.title.get(lang) or instrument.title["en"])
            if instrument
            else str(f.get("instrument"))
        )
        if f.get("code") == "language_missing":
            out.append(
                t["cadm_err_language_missing"].format(
                    where=where, title=title, language=label("language", f.get("language"), lang)
                )
            )
        elif f.get("code") == "age_range" and instrument is not None:
            low, high = f.get("ages") or (0, 0)
            zh_range, en_range = age_range_text(instrument)
            key = (
                "cadm_err_age_roster"
                if f.get("basis") == "roster_birth_dates"
                else "cadm_err_age_typical"
            )
            out.append(
                t[key].format(
                    where=where,
                    title=title,
                    range=f"适用于 {zh_range}" if lang == "zh-CN" else en_range,
                    low=low,
                    high=high,
                    n=f.get("students", 0),
                )
            )
        else:
            text = str(f.get("message", {}).get(lang, ""))
            out.append(re.sub(r"^(batteries\[\d+\]|guardian_battery)", where, text))
    return out


async def _wizard(
    request: AnyRequest,
    sess: ss.StaffSession,
    options: listing.WizardOptions,
    form: WizardForm,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> Template:
    return ss.page(
        request,
        "staff_admin_campaigns_new.html",
        sess,
        status=status,
        options=options,
        form=form,
        errors=errors or [],
        consent_rules=campaigns.CONSENT_RULES,
        languages=LANGUAGES,
        label=label,
    )


@get("/admin/campaigns/new", opt={"permission": "campaigns.create"})
async def campaign_new(request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt) -> Template:
    """The campaign form: a battery per grade of the roster, the window, the consent rule."""
    user = ss.require(sess, "campaigns.create")
    options = await listing.wizard_options(db, user, rt.catalogue, now=clock.now())
    return await _wizard(request, sess, options, _blank_form(options, request_language(request)))


@post("/admin/campaigns/new", status_code=303, opt={"permission": "campaigns.create"})
async def campaign_create(
    request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt
) -> Template | Redirect:
    """Create the campaign with the API's service; a refusal re-renders the form (422) with
    the messages and the values as typed, and nothing is stored."""
    user = ss.require(sess, "campaigns.create")
    lang = request_language(request)
    now = clock.now()
    options = await listing.wizard_options(db, user, rt.catalogue, now=now)
    form = _typed_form(await request.form(), options.grades)
    data, problems = _campaign_in(form, options.grades, options.timezone, TEXT[lang])
    if data is not None:
        try:
            created = await campaigns.create_campaign(db, rt, user, data, now=now)
        except Unprocessable as exc:
            problems = _service_problems(exc, [b.grades[0] for b in data.batteries], rt, lang)
        else:
            return redirect(f"{CAMPAIGNS}/{created.campaign_id}?done=done_ok")
    return await _wizard(request, sess, options, form, errors=problems, status=422)


# --------------------------------------------------------------------------- the roster upload

#: The file types the API's roster upload takes (``campaigns.api``).
ROSTER_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
#: Room left in a confirmation request for its other fields and the multipart framing.
CARRY_OVERHEAD = 4096
_CARRY_PURPOSE = "roster-preview"
#: How many errors, warnings and leavers a preview lists (the rest are counted).
SHOW_ERRORS, SHOW_WARNINGS, SHOW_LEAVERS = 200, 5, 30


class RosterFormError(Exception):
    """A roster form that cannot go further: the message key (and its arguments)."""

    def __init__(self, key: str, *args: object, status: int = 422) -> None:
        super().__init__(key)
        self.key, self.args_, self.status = key, args, status


@dataclass(frozen=True)
class Carried:
    """The previewed file, as the confirmation form carries it."""

    mode: str
    suffix: str
    sha256: str
    content: str  # zlib-compressed, base64
    seal: str  # HMAC of the user, mode, suffix and sha256


def _seal(secret: str, user: StaffUser, mode: str, suffix: str, sha: str) -> str:
    value = f"{_CARRY_PURPOSE}|{user.id}|{user.school_id}|{mode}|{suffix}|{sha}"
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def max_file_bytes(rt: Runtime) -> int:
    """The largest upload the page takes: the request size limit, less the framing."""
    return max(0, rt.settings.max_body_bytes - CARRY_OVERHEAD)


def _carry(rt: Runtime, user: StaffUser, mode: str, suffix: str, content: bytes) -> Carried:
    """The file for the confirmation form, refused when its carried form would exceed the
    request size limit (the confirmation would then be refused by the server)."""
    packed = base64.b64encode(zlib.compress(content, 9)).decode("ascii")
    if len(packed) > max_file_bytes(rt):
        raise RosterFormError("cadm_roster_too_big", max_file_bytes(rt) // 1024, status=413)
    sha = hashlib.sha256(content).hexdigest()
    return Carried(
        mode, suffix, sha, packed, _seal(rt.settings.secret_key, user, mode, suffix, sha)
    )


def _uncarry(rt: Runtime, user: StaffUser, data: Any) -> tuple[Carried, bytes]:
    """The file the confirmation carries, checked: its seal (this user previewed it, in this
    mode) and its SHA-256 (these are the bytes previewed)."""
    fields = {k: data.get(k) for k in ("mode", "suffix", "sha256", "content", "seal")}
    if not all(isinstance(v, str) and v for v in fields.values()):
        raise RosterFormError("cadm_roster_not_previewed", status=400)
    carried = Carried(**fields)
    expected = _seal(rt.settings.secret_key, user, carried.mode, carried.suffix, carried.sha256)
    if not hmac.compare_digest(expected, carried.seal):
        raise RosterFormError("cadm_roster_not_previewed", status=400)
    try:
        packed = base64.b64decode(carried.content, validate=True)
        inflate = zlib.decompressobj()
        content = inflate.decompress(packed, rt.settings.max_body_bytes + 1)
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise RosterFormError("cadm_roster_not_previewed", status=400) from exc
    if not hmac.compare_digest(hashlib.sha256(content).hexdigest(), carried.sha256):
        raise RosterFormError("cadm_roster_not_previewed", status=400)
    return carried, content


async def _import(
    db: AsyncSession,
    user: StaffUser,
    content: bytes,
    suffix: str,
    *,
    mode: str,
    apply: bool,
    now: datetime,
    confirm_leavers: str | None = None,
) -> roster_import.RosterReport:
    """The API's import on these bytes (written to a private temporary file, as the API does)."""
    school = await listing.own_school(db, user)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix}"
        path.write_bytes(content)
        try:
            return await roster_import.import_roster(
                db,
                school_code=school.code,
                path=path,
                apply=apply,
                now=now,
                user=user,
                confirm_leavers=confirm_leavers,
                mode=mode,
            )
        except RosterFileError as exc:
            raise RosterFormError("cadm_roster_unreadable", str(exc)) from exc


def _localize(text: str, table: tuple[tuple[str, str, str], ...], lang: str) -> str:
    """A roster message in ``lang``: the first pattern of ``table`` that matches it, worded in
    that language with the values it names (the message as written when none matches)."""
    for pattern, zh, en in table:
        m = re.search(pattern, text)
        if m is not None:
            values = {k: (v or "").strip("'\"") for k, v in m.groupdict().items()}
            return (zh if lang == "zh-CN" else en).format(**values)
    return text


_ROW_ERROR = re.compile(r"^row (?P<row>\d+)(?:, column (?P<column>.*?))?: (?P<reason>.*)$", re.S)


def _row_errors(errors: list[str], lang: str) -> list[dict[str, str]]:
    """The report's row errors as (row, column, what is wrong) in ``lang``."""
    out = []
    for text in errors:
        m = _ROW_ERROR.match(text)
        row, column, reason = (m["row"], m["column"] or "", m["reason"]) if m else ("", "", text)
        out.append(
            {"row": row, "column": column, "reason": _localize(reason, texts.ROW_REASONS, lang)}
        )
    return out


def _committee(report: roster_import.RosterReport) -> list[Any]:
    return [c for c in report.committee if c.required and not c.ok]


def _headers(lang: str) -> list[dict[str, Any]]:
    """The accepted headers, one line per field (the parser's own table). The zh-CN page lists
    the Chinese ones (the English ones are on the English page)."""
    t = TEXT[lang]
    return [
        {
            "field": t[f"cadm_field_{field}"],
            "required": field in REQUIRED,
            "headers": SYNONYMS[field],
            "hint": t[f"cadm_values_{field}"],
        }
        for field in SYNONYMS
    ]


def _roster_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    rt: Runtime,
    *,
    step: str,
    mode: str = "replace",
    report: roster_import.RosterReport | None = None,
    carried: Carried | None = None,
    filename: str = "",
    error: str | None = None,
    result: dict[str, int] | None = None,
    status: int = 200,
) -> Template:
    lang = request_language(request)
    return ss.page(
        request,
        "staff_admin_roster.html",
        sess,
        status=status,
        step=step,
        mode=mode,
        modes=roster_import.ROSTER_MODES,
        report=report,
        carried=carried,
        filename=filename,
        error=error,
        result=result,
        row_errors=_row_errors(report.errors, lang)[:SHOW_ERRORS] if report else [],
        warnings=[_localize(w, texts.WARNINGS, lang) for w in report.warnings] if report else [],
        committee=_committee(report) if report else [],
        headers=_headers(lang),
        max_kb=max_file_bytes(rt) // 1024,
        shown=(SHOW_ERRORS, SHOW_WARNINGS, SHOW_LEAVERS),
        suffixes=ROSTER_SUFFIXES,
        label=label,
    )


_RESULT_KEYS = ("create", "update", "unchanged", "left", "waiting")


@get("/admin/roster", opt={"permission": "rosters.import"})
async def roster_page(request: AnyRequest, sess: Sess, rt: Rt) -> Template:
    """Step 1: choose the file and the mode. After an import: its result (in the address,
    counts only, so that reloading shows it again and imports nothing)."""
    ss.require(sess, "rosters.import")
    q = request.query_params
    result = None
    if q.get("imported"):
        result = {k: int(v) if (v := q.get(k, "0")).isdigit() else 0 for k in _RESULT_KEYS}
    mode = q.get("mode", "replace")
    mode = mode if mode in roster_import.ROSTER_MODES else "replace"
    return _roster_page(
        request, sess, rt, step="result" if result else "upload", mode=mode, result=result
    )


def _too_large(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    """A roster form over the request size limit (refused while its body was read, before the
    handler ran: nothing written): the upload form again, saying the limit."""
    sess = request.scope.get("state", {}).get(ss.SESSION_KEY)
    if not isinstance(sess, ss.StaffSession):  # no page session: the API's problem document
        return handle_http_exception(request, exc)
    rt: Runtime = request.app.state.runtime
    error = TEXT[request_language(request)]["cadm_roster_too_big"].format(
        max_file_bytes(rt) // 1024
    )
    return _roster_page(request, sess, rt, step="upload", error=error, status=413)


#: The roster forms answer a body over the size limit with the form and the limit.
TOO_LARGE: dict[Any, Any] = {413: _too_large}


@post(
    "/admin/roster",
    status_code=200,
    opt={"permission": "rosters.import"},
    exception_handlers=TOO_LARGE,
)
async def roster_preview(request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt) -> Template:
    """Step 2: the preview of the uploaded file (nothing written): counts, leavers, errors by
    row, warnings. A clean file comes with the confirmation form that carries it."""
    user = ss.require(sess, "rosters.import")
    lang = request_language(request)
    data = await request.form()
    mode = str(data.get("mode") or "replace")
    upload = data.get("file")
    filename = upload.filename if isinstance(upload, UploadFile) else ""
    try:
        roster_import.roster_mode(mode)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise RosterFormError("cadm_roster_no_file")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in ROSTER_SUFFIXES:
            raise RosterFormError("cadm_roster_bad_type", suffix or "—")
        content = await upload.read()
        if not content:
            raise RosterFormError("cadm_roster_empty")
        carried = _carry(rt, user, mode, suffix, content)
        report = await _import(db, user, content, suffix, mode=mode, apply=False, now=clock.now())
    except Unprocessable as exc:  # an unknown mode
        return _roster_page(
            request,
            sess,
            rt,
            step="upload",
            error=_message(exc, lang),
            filename=filename,
            status=422,
        )
    except RosterFormError as exc:
        return _roster_page(
            request,
            sess,
            rt,
            step="upload",
            mode=mode if mode in roster_import.ROSTER_MODES else "replace",
            error=_form_error(exc, lang),
            filename=filename,
            status=exc.status,
        )
    return _roster_page(
        request,
        sess,
        rt,
        step="preview",
        mode=mode,
        report=report,
        carried=None if report.errors else carried,
        filename=filename,
        status=422 if report.errors else 200,
    )


def _form_error(exc: RosterFormError, lang: str) -> str:
    args = exc.args_
    if exc.key == "cadm_roster_unreadable":  # the parser's reason, worded in the language
        args = tuple(_localize(str(a), texts.FILE_ERRORS, lang) for a in args)
    return TEXT[lang][exc.key].format(*args)


@post(
    "/admin/roster/apply",
    status_code=303,
    opt={"permission": "rosters.import"},
    exception_handlers=TOO_LARGE,
)
async def roster_apply(
    request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt
) -> Template | Redirect:
    """Step 3: import exactly the previewed file; the students missing from it (full replace)
    are marked as left only with the confirmation box. Then the result (303 to step 1's page
    with the counts); a confirmation whose students changed since the preview is refused
    (409) and writes nothing."""
    user = ss.require(sess, "rosters.import")
    lang = request_language(request)
    data = await request.form()
    token = data.get("confirm_leavers")
    try:
        carried, content = _uncarry(rt, user, data)
        report = await _import(
            db,
            user,
            content,
            carried.suffix,
            mode=carried.mode,
            apply=True,
            now=clock.now(),
            confirm_leavers=token if isinstance(token, str) and token else None,
        )
    except RosterFormError as exc:
        return _roster_page(
            request, sess, rt, step="upload", error=_form_error(exc, lang), status=exc.status
        )
    except Conflict:  # leavers_changed: the school's students changed since the preview
        return _roster_page(
            request,
            sess,
            rt,
            step="upload",
            mode=carried.mode,
            error=TEXT[lang]["cadm_roster_changed"],
            status=409,
        )
    if report.errors or report.counts is None:  # cannot happen for a previewed clean file
        return _roster_page(
            request, sess, rt, step="preview", mode=carried.mode, report=report, status=422
        )
    counts = report.counts
    query = {
        "imported": 1,
        "mode": carried.mode,
        "create": counts.create,
        "update": counts.update,
        "unchanged": counts.unchanged,
        "left": counts.mark_left,
        "waiting": report.leavers_unconfirmed,
    }
    return redirect(f"{ROSTER}?" + "&".join(f"{k}={v}" for k, v in query.items()))


ROUTES: list[Any] = [
    campaigns_page,
    campaign_new,
    campaign_create,
    roster_page,
    roster_preview,
    roster_apply,
]
