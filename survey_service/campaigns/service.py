"""Annual screening campaigns (checklist item 13): window, batteries per grade, consent,
one-time access codes printed as class slips, consents, non-completers and reminders."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select

from instruments import Instrument, UnknownInstrumentError
from survey_service.accounts import permissions
from survey_service.accounts.access import (
    campaign_in_scope,
    class_in_scope,
    scope_of,
    student_in_scope,
)
from survey_service.campaigns import consents
from survey_service.campaigns.schemas import ConsentRecorded
from survey_service.campaigns.slips import Slip, render_slips_html
from survey_service.campaigns.validity import Battery, age_on, check_batteries
from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    Consent,
    School,
    SchoolClass,
    ScreeningSession,
    StaffUser,
    Student,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.schemas import AwareDatetime, Code, Name, Text, single_line
from survey_service.security import digest, new_access_code, normalize_access_code
from survey_service.services import audit
from survey_service.services.runtime import Runtime

CONSENT_RULES = ("guardian_under_14", "guardian_all", "statutory_basis")


class GradeBattery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    grades: list[int]
    instruments: list[Code]


class CampaignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A campaign as a school sets it up.

    ``allow_language_fallback``: deliver an instrument in English where it has no text in one
    of ``languages`` (refused otherwise; see :mod:`.campaign_validity`).
    ``guardian_battery``: parent-report instruments (e.g. ``psc17``) each targeted student's
    guardian answers about the student, with a guardian access code (slips printed with
    ``respondent=parent``); their age range is checked against every student battery's grades.
    """

    name: Name
    school_year: Annotated[str, single_line(16)]
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    batteries: list[GradeBattery]
    consent_rule: Annotated[str, single_line(32)] = "guardian_under_14"
    statutory_basis: Text | None = None
    target_class_ids: list[uuid.UUID] | None = None
    languages: list[Annotated[str, single_line(16)]] = msgspec.field(
        default_factory=lambda: ["zh-CN", "en"]
    )
    results_visible_to_students: bool = False
    allow_language_fallback: bool = False
    guardian_battery: list[Code] = msgspec.field(default_factory=list)
    # The version of the consent notice text guardians are shown (recorded with each consent).
    consent_notice_version: Annotated[str, single_line(32)] = "2026.1"


class CampaignWarning(msgspec.Struct, frozen=True):
    """Something the school should know that does not stop the campaign (zh-CN and en).

    ``code``: ``language_unvalidated`` (the text in ``language`` is not validated) or
    ``language_fallback`` (no text in ``language``; given in English, as allowed).
    """

    code: str
    instrument: str
    language: str
    status: str
    message: dict[str, str]


class CampaignOut(msgspec.Struct, frozen=True):
    campaign_id: uuid.UUID
    school_id: uuid.UUID
    name: str
    school_year: str
    opens_at: datetime
    closes_at: datetime
    batteries: list[GradeBattery]
    consent_rule: str
    target_class_ids: list[uuid.UUID] | None
    languages: list[str] = msgspec.field(default_factory=list)
    allow_language_fallback: bool = False
    warnings: list[CampaignWarning] = msgspec.field(default_factory=list)
    guardian_battery: list[str] = msgspec.field(default_factory=list)
    consent_notice_version: str = "2026.1"


def campaign_out(c: Campaign, warnings: list[CampaignWarning] | None = None) -> CampaignOut:
    batteries = [msgspec.convert(b, GradeBattery) for b in c.grade_batteries]
    return CampaignOut(
        c.id,
        c.school_id,
        c.name,
        c.school_year,
        c.opens_at,
        c.closes_at,
        batteries,
        c.consent_rule,
        [uuid.UUID(str(i)) for i in c.target_class_ids] if c.target_class_ids is not None else None,
        list(c.languages),
        bool(c.allow_language_fallback),
        list(warnings or []),
        list(c.guardian_battery or []),
        c.consent_notice_version or "2026.1",
    )


async def create_campaign(
    db: AsyncSession, rt: Runtime, user: StaffUser, data: CampaignIn, *, now: datetime
) -> CampaignOut:
    """Validate and create a campaign for the caller's school; return it with its warnings.

    Refused (422, nothing written) when a battery holds an instrument outside its age range for
    one of its grades, a parent- or teacher-report form (a parent form belongs in
    ``guardian_battery``), or an instrument with no text in one of the campaign's languages
    without ``allow_language_fallback`` (:mod:`.campaign_validity`); likewise when the guardian
    battery holds anything but parent-report forms or does not fit the students' ages.
    """
    permissions.require(user, "campaigns.create")
    if user.school_id is None:
        raise Unprocessable("only school staff create campaigns", code="no_school")
    problems = []
    if data.closes_at <= data.opens_at:
        problems.append("closes_at must be after opens_at")
    if data.closes_at <= now:
        problems.append("closes_at is already past")
    if not data.batteries:
        problems.append("batteries: give at least one grade band")
    if data.consent_rule not in CONSENT_RULES:
        problems.append(f"consent_rule must be one of {', '.join(CONSENT_RULES)}")
    if data.consent_rule == "statutory_basis" and not (data.statutory_basis or "").strip():
        problems.append("statutory_basis: name the legal basis when no consent is asked")
    seen: set[int] = set()
    known_batteries: list[Battery] = []
    for i, band in enumerate(data.batteries):
        if not band.grades or not band.instruments:
            problems.append(f"batteries[{i}]: grades and instruments must not be empty")
        for grade in band.grades:
            if not 1 <= grade <= 12:
                problems.append(f"batteries[{i}].grades: {grade} is not a grade 1-12")
            if grade in seen:
                problems.append(f"batteries[{i}].grades: grade {grade} is in two bands")
            seen.add(grade)
        found: list[Instrument] = []
        for instrument_id in band.instruments:
            try:
                found.append(rt.catalogue.get(instrument_id))
            except UnknownInstrumentError:
                problems.append(f"batteries[{i}].instruments: unknown instrument {instrument_id!r}")
        known_batteries.append(Battery(i, [g for g in band.grades if 1 <= g <= 12], found))
    guardian: list[Instrument] = []
    for instrument_id in data.guardian_battery:
        if instrument_id in (i.id for i in guardian):
            problems.append(f"guardian_battery: {instrument_id!r} is listed twice")
            continue
        try:
            guardian.append(rt.catalogue.get(instrument_id))
        except UnknownInstrumentError:
            problems.append(f"guardian_battery: unknown instrument {instrument_id!r}")
    if guardian:  # about the children of every student battery's grades
        known_batteries.append(Battery(0, sorted(seen & set(range(1, 13))), guardian, "parent"))
    if data.target_class_ids is not None:
        known = set(
            (
                await db.scalars(
                    select(SchoolClass.id).where(SchoolClass.school_id == user.school_id)
                )
            ).all()
        )
        for class_id in data.target_class_ids:
            if class_id not in known:
                problems.append(f"target_class_ids: {class_id} is not a class of this school")
    bad_lang = [lang for lang in data.languages if lang not in ("zh-CN", "en")]
    if bad_lang or not data.languages:
        problems.append("languages: use zh-CN and/or en")
    validity = check_batteries(
        known_batteries,
        languages=[lang for lang in data.languages if lang in ("zh-CN", "en")],
        allow_language_fallback=data.allow_language_fallback,
        student_ages=await _student_ages(db, user.school_id, data),
    )
    problems.extend(p.message["en"] for p in validity.problems)
    if problems:
        extra: dict[str, object] = {"problems": problems}
        if validity.problems:
            extra["errors"] = [p.as_dict() for p in validity.problems]
        message = None
        if validity.problems:  # the battery problems, for the school in zh-CN and en
            message = {
                "zh-CN": "；".join(p.message["zh-CN"] for p in validity.problems),
                "en": "; ".join(p.message["en"] for p in validity.problems),
            }
        raise Unprocessable(
            "; ".join(problems), code="invalid_campaign", message=message, extra=extra
        )
    campaign = Campaign(
        id=uuid.uuid4(),
        school_id=user.school_id,
        name=data.name,
        school_year=data.school_year,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        battery=list(data.batteries[0].instruments),
        languages=list(data.languages),
        grade_batteries=[msgspec.to_builtins(b) for b in data.batteries],
        target_class_ids=[str(i) for i in data.target_class_ids]
        if data.target_class_ids is not None
        else None,
        consent_rule=data.consent_rule,
        statutory_basis=data.statutory_basis,
        results_visible_to_students=data.results_visible_to_students,
        allow_language_fallback=data.allow_language_fallback,
        guardian_battery=list(data.guardian_battery),
        consent_notice_version=data.consent_notice_version,
    )
    db.add(campaign)
    await db.flush()
    warnings = [
        CampaignWarning(
            code=w.code,
            instrument=w.instrument,
            language=str(w.details["language"]),
            status=str(w.details["status"]),
            message=dict(w.message),
        )
        for w in validity.warnings
    ]
    return campaign_out(campaign, warnings)


async def _student_ages(
    db: AsyncSession, school_id: uuid.UUID, data: CampaignIn
) -> dict[int, list[tuple[int, int]]]:
    """Per grade, the ages (when the campaign opens, when it closes) of the active students of
    the targeted classes who have a birth date, in the school's time zone."""
    school = await db.get_one(School, school_id)
    zone = ZoneInfo(school.timezone)
    opens, closes = data.opens_at.astimezone(zone).date(), data.closes_at.astimezone(zone).date()
    query = (
        select(SchoolClass.grade, Student.birth_date)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(
            Student.school_id == school_id,
            Student.status == "active",
            Student.birth_date.is_not(None),
        )
    )
    if data.target_class_ids is not None:
        query = query.where(SchoolClass.id.in_(data.target_class_ids))
    out: dict[int, list[tuple[int, int]]] = {}
    for grade, birth in (await db.execute(query)).all():
        if birth is not None:
            out.setdefault(grade, []).append((age_on(birth, opens), age_on(birth, closes)))
    return out


def battery_for(campaign: Campaign, grade: int) -> list[str]:
    """The instruments a student of ``grade`` answers in ``campaign``."""
    for band in campaign.grade_batteries:
        if grade in band["grades"]:
            return list(band["instruments"])
    if campaign.grade_batteries:
        return []
    return list(campaign.battery)


def guardian_battery(campaign: Campaign) -> list[str]:
    """The parent-report instruments a targeted student's guardian answers in ``campaign``."""
    return list(campaign.guardian_battery or [])


RESPONDENTS = ("self", "parent")


def consent_needed(campaign: Campaign, student: Student, today: date) -> bool:
    """Whether a guardian's consent must be on file before this student may start."""
    if campaign.consent_rule == "statutory_basis":
        return False
    if campaign.consent_rule == "guardian_all":
        return True
    if student.birth_date is None:
        return True  # age unknown: ask, rather than guess
    b = student.birth_date
    age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
    return age < 14


async def targets(db: AsyncSession, campaign: Campaign) -> list[tuple[Student, SchoolClass]]:
    """Active students the campaign is for (its classes; grades with a battery)."""
    query = (
        select(Student, SchoolClass)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Student.school_id == campaign.school_id, Student.status == "active")
    )
    if campaign.target_class_ids is not None:
        query = query.where(
            SchoolClass.id.in_([uuid.UUID(str(i)) for i in campaign.target_class_ids])
        )
    rows = (
        await db.execute(
            query.order_by(SchoolClass.grade, SchoolClass.name, Student.student_number)
        )
    ).all()
    return [(s, k) for s, k in rows if battery_for(campaign, k.grade)]


async def _unused_codes(
    db: AsyncSession, campaign_id: uuid.UUID, class_id: uuid.UUID, respondent: str
) -> int:
    """How many codes of this kind printed for the class's students are still unused."""
    return int(
        await db.scalar(
            select(func.count())
            .select_from(AccessCode)
            .join(Student, Student.id == AccessCode.student_id)
            .where(
                AccessCode.campaign_id == campaign_id,
                AccessCode.respondent == respondent,
                AccessCode.used_at.is_(None),
                Student.class_id == class_id,
            )
        )
        or 0
    )


async def class_slips(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    class_id: uuid.UUID,
    *,
    base_url: str,
    secret_key: str,
    lang: str,
    now: datetime,
    respondent: str = "self",
    void_unused: bool = False,
) -> str:
    """Issue fresh one-time codes for a class and return printable slips (HTML with QR codes).

    Codes are stored only as digests, so printing again issues new codes and voids the unused
    ones printed before; codes already used for a submission are kept (those students get no
    new slip). Voiding is never silent: while the class holds unused codes of this kind,
    printing answers 409 ``slips_would_void`` saying how many it would void, and goes ahead
    only with ``void_unused=True``. ``respondent="parent"`` issues the guardian codes instead
    (one per student, separate from the student's own): slips to send home, for the campaign's
    ``guardian_battery``. Printing one kind never touches the other kind's codes.
    """
    permissions.require(user, "slips.print")
    if respondent not in RESPONDENTS:
        raise Unprocessable(
            f"respondent must be one of {', '.join(RESPONDENTS)}, got {respondent!r}",
            code="invalid_respondent",
        )
    campaign = await campaign_in_scope(db, user, campaign_id)
    if now >= campaign.closes_at:
        raise Conflict("the campaign has closed", code="campaign_closed")
    if respondent == "parent" and not guardian_battery(campaign):
        raise Conflict(
            "this campaign has no guardian_battery, so there are no guardian slips to print",
            code="no_guardian_battery",
            message={
                "zh-CN": "本次测评没有家长问卷（guardian_battery），无需打印家长登录条。",
                "en": "This campaign has no guardian questionnaire (guardian_battery): there "
                "are no guardian slips to print.",
            },
        )
    klass = await class_in_scope(db, user, class_id)  # a head teacher: their own classes
    if klass.school_id != campaign.school_id:
        raise NotFound("No such class", code="class_not_found")
    school = await db.get_one(School, campaign.school_id)
    if not void_unused:
        unused = await _unused_codes(db, campaign.id, class_id, respondent)
        if unused:
            raise Conflict(
                f"printing again would void {unused} unused code(s) printed earlier for this "
                "class; print again with void_unused=true to go ahead",
                code="slips_would_void",
                message={
                    "zh-CN": f"本班已打印的登录码中还有 {unused} 个未使用。再次打印会让这些登录码"
                    "失效，已发出的登录条将无法使用。确认后再打印。",
                    "en": f"{unused} code(s) printed earlier for this class are still unused. "
                    "Printing again voids them: slips already handed out stop working. "
                    "Confirm to print again.",
                },
                extra={"unused_codes": unused},
            )
    slips = []
    for student, k in await targets(db, campaign):
        if k.id != class_id:
            continue
        code_row = await db.scalar(
            select(AccessCode).where(
                AccessCode.campaign_id == campaign.id,
                AccessCode.student_id == student.id,
                AccessCode.respondent == respondent,
            )
        )
        if code_row is not None and code_row.used_at is not None:
            continue
        code = new_access_code()
        if code_row is None:
            db.add(
                AccessCode(
                    campaign_id=campaign.id,
                    student_id=student.id,
                    respondent=respondent,
                    code_digest=digest(secret_key, normalize_access_code(code)),
                    expires_at=campaign.closes_at,
                    used_at=None,
                )
            )
        else:
            code_row.code_digest = digest(secret_key, normalize_access_code(code))
            code_row.expires_at = campaign.closes_at
        slips.append(
            Slip(
                student_number=student.student_number,
                name=student.name,
                access_code=code,
                expires_at=campaign.closes_at,
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="campaign.guardian_slips" if respondent == "parent" else "campaign.slips",
        subject_type="class",
        subject_ids=[class_id],
        school_id=campaign.school_id,
        now=now,
    )
    return render_slips_html(
        school.name,
        klass.name,
        slips,
        base_url=base_url,
        lang=lang,
        city_help_line=school.city_help_line,
        for_guardian=respondent == "parent",
    )


class ConsentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A guardian's decision. ``notice_version``: the consent notice text the guardian saw
    (default: the campaign's ``consent_notice_version``); ``verification_method``:
    ``paper_slip`` (default), ``phone_call``, ``in_person`` or ``online_form``;
    ``verified_by``: the staff member who verified it (default: the caller)."""

    student_id: uuid.UUID
    status: Annotated[str, single_line(16)]
    guardian_name: Name | None = None
    notice_version: Annotated[str, single_line(32)] | None = None
    verification_method: Annotated[str, single_line(16)] = "paper_slip"
    verified_by: uuid.UUID | None = None


async def record_consent(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    data: ConsentIn,
    *,
    now: datetime,
) -> ConsentRecorded:
    """Record (or change) a guardian's consent or refusal."""
    permissions.require(user, "consent.record")
    if data.status not in ("granted", "refused"):
        raise Unprocessable("status must be granted or refused", code="invalid_consent")
    consents.check_method("verification_method", data.verification_method)
    campaign = await campaign_in_scope(db, user, campaign_id)
    student = await student_in_scope(db, user, data.student_id)
    if student.school_id != campaign.school_id:
        raise NotFound("No such student", code="student_not_found")
    verifier = user.id
    if data.verified_by is not None:
        staff = await db.get(StaffUser, data.verified_by)
        if staff is None or staff.school_id != campaign.school_id or not staff.active:
            raise Unprocessable(
                "verified_by is not an active staff member of this school", code="invalid_consent"
            )
        verifier = staff.id
    row = await db.scalar(
        select(Consent).where(Consent.campaign_id == campaign.id, Consent.student_id == student.id)
    )
    if row is None:
        row = Consent(
            campaign_id=campaign.id,
            student_id=student.id,
            status=data.status,
            guardian_name=data.guardian_name,
            recorded_by=user.id,
            recorded_at=now,
        )
        db.add(row)
    else:  # the earlier decision stays in the history (consent_events)
        if row.status == "withdrawn" and data.status == "granted":
            await consents.resume_withdrawn_sessions(db, campaign.id, student.id)
        row.status, row.guardian_name = data.status, data.guardian_name
        row.recorded_by, row.recorded_at = user.id, now
        row.withdrawn_at = row.withdrawn_by = None
        row.withdrawal_channel = row.withdrawal_reason = None
    row.notice_version = data.notice_version or campaign.consent_notice_version
    row.verification_method, row.verified_by = data.verification_method, verifier
    await db.flush()
    consents.add_event(
        db,
        row,
        decision=data.status,
        method=data.verification_method,
        verified_by=verifier,
        reason=None,
        guardian_name=data.guardian_name,
        user=user,
        now=now,
    )
    return ConsentRecorded(
        consent_id=row.id,
        status=row.status,
        notice_version=row.notice_version,
        verification_method=row.verification_method,
        verified_by=row.verified_by,
    )


class NonCompleter(msgspec.Struct, frozen=True):
    student_id: uuid.UUID
    student_number: str
    name: str
    grade: int
    class_name: str
    state: str  # not_started | started | refused | no_consent


async def non_completers(
    db: AsyncSession, user: StaffUser, campaign_id: uuid.UUID, *, now: datetime
) -> list[NonCompleter]:
    """Every targeted student without a submission of their own, by class (for follow-up; no
    results). A guardian's submission of the guardian battery does not count."""
    permissions.require(user, "completion.read")
    campaign = await campaign_in_scope(db, user, campaign_id)
    sessions = {
        s.student_id: s
        for s in (
            await db.scalars(
                select(ScreeningSession).where(
                    ScreeningSession.campaign_id == campaign.id,
                    ScreeningSession.respondent == "self",
                )
            )
        ).all()
    }
    decisions = {
        c.student_id: c
        for c in (await db.scalars(select(Consent).where(Consent.campaign_id == campaign.id))).all()
    }
    school = await db.get_one(School, campaign.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    out = []
    for student, klass in await targets(db, campaign):
        if scope_of(user) == "class" and klass.head_teacher_id != user.id:
            continue  # a head teacher: their own classes only
        session = sessions.get(student.id)
        if session is not None and session.status == "submitted":
            continue
        consent = decisions.get(student.id)
        if consent is not None and consent.status == "withdrawn":
            continue  # processing stopped (issue 19): not a non-completer to chase
        if consent is not None and consent.status == "refused":
            state = "refused"
        elif consent_needed(campaign, student, today) and consent is None:
            state = "no_consent"
        else:
            state = "started" if session is not None else "not_started"
        out.append(
            NonCompleter(
                student.id, student.student_number, student.name, klass.grade, klass.name, state
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="campaign.non_completers",
        subject_type="campaign",
        subject_ids=[campaign.id],
        school_id=campaign.school_id,
        now=now,
    )
    return out
