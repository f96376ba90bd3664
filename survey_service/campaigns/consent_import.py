"""Guardian consent entered by staff on the campaign's pages (issue 13): one student at a time
(found by name or student number), or a spreadsheet of decisions, previewed and then applied in
one transaction.

The spreadsheet (CSV or XLSX, read by the roster readers: UTF-8/GB18030/UTF-16 CSV, the active
sheet of a workbook) has a header row with at least a student-number column (``学号`` or any
roster header for it, e.g. ``student_number``) and a decision column (``同意``, ``是否同意``,
``consent`` or ``decision``); other columns are ignored. Decisions: ``同意`` or ``granted``
(consent given), ``不同意`` or ``declined`` (refused; ``refused`` is read too). Each row is
checked — a student number that is not a student of the campaign in the caller's scope, a value
that is none of these, a student listed twice — and the preview shows every row with its
problem. Applying re-checks everything and writes nothing at all while any row has a problem;
rows that would not change the current decision are left alone (no new history entry).

Every decision goes through ``service.record_consent`` (or ``consents.withdraw_consent``), so a
page records exactly what the API records, history included.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import campaign_in_scope, scope_of
from survey_service.campaigns import consents
from survey_service.campaigns import service as campaigns
from survey_service.campaigns.reminders import CampaignSummary, summary
from survey_service.db import AsyncSession, Campaign, Consent, SchoolClass, StaffUser, Student
from survey_service.errors import NotFound, Unprocessable
from survey_service.rosters import RosterFileError
from survey_service.rosters._headers import field_of, header_key
from survey_service.rosters._read import open_rows
from survey_service.rosters._values import cell_text, nfkc, parse_student_number
from survey_service.services import audit
from survey_service.services.runtime import Runtime

#: The values a decision cell may hold (after NFKC, case folding and trimming).
DECISION_VALUES: dict[str, str] = {
    "同意": "granted",
    "不同意": "refused",
    "granted": "granted",
    "declined": "refused",
    "refused": "refused",
}
#: Headers of the decision column (compared as roster headers are: case, spaces, full-width).
DECISION_HEADERS = frozenset(
    header_key(h) for h in ("同意", "是否同意", "监护人同意", "同意情况", "consent", "decision")
)
MAX_ROWS = 5000
DECISIONS = ("granted", "refused", "withdrawn")


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class SheetRow:
    """One data row as typed: its spreadsheet row number, student number and decision."""

    row: int
    student_number: str
    value: str


def _file_error(zh: str, en: str, code: str = "invalid_consent_file") -> Unprocessable:
    return Unprocessable(en, code=code, message={"zh-CN": zh, "en": en})


def read_consent_file(path: Path) -> list[SheetRow]:
    """The rows of an uploaded consent spreadsheet (blank rows skipped); 422 with a message
    in zh-CN and en for a file that cannot be read, has no such header or too many rows."""
    rows: list[SheetRow] = []
    columns: tuple[int, int] | None = None
    try:
        for number, cells in open_rows(path, []):
            texts = [cell_text(c) for c in cells]
            if not any(texts):
                continue
            if columns is None:
                found_number = next(
                    (i for i, t in enumerate(texts) if field_of(t) == "student_number"), None
                )
                found_value = next(
                    (i for i, t in enumerate(texts) if header_key(t) in DECISION_HEADERS), None
                )
                if found_number is None or found_value is None:
                    raise _file_error(
                        "表格的第一行必须是表头，并且有“学号”和“同意”两列。",
                        "The first row must be a header with the columns 学号 (student "
                        "number) and 同意 (consent).",
                        "consent_file_header",
                    )
                columns = (found_number, found_value)
                continue
            if len(rows) >= MAX_ROWS:
                raise _file_error(
                    f"表格超过 {MAX_ROWS} 行，请分成几个文件上传。",
                    f"The file has more than {MAX_ROWS} rows: upload it in parts.",
                    "consent_file_too_long",
                )
            n, v = columns
            student_number = parse_student_number(cells[n] if n < len(cells) else None)
            rows.append(
                SheetRow(
                    row=number,
                    # A number Excel mangled (scientific notation) stays as shown: unknown.
                    student_number=student_number
                    if isinstance(student_number, str)
                    else (texts[n] if n < len(texts) else ""),
                    value=texts[v] if v < len(texts) else "",
                )
            )
    except RosterFileError as exc:
        raise _file_error(
            f"无法读取这个文件：{exc}", f"The file cannot be read: {exc}", "unreadable_consent_file"
        ) from exc
    if not rows:
        raise _file_error(
            "表格里没有数据行。", "The file has no rows under its header.", "consent_file_empty"
        )
    return rows


# --------------------------------------------------------------------------- the students


async def _students(
    db: AsyncSession, user: StaffUser, campaign: Campaign
) -> list[tuple[Student, SchoolClass]]:
    """The campaign's students the caller may record for (a head teacher: their classes)."""
    pairs = await campaigns.targets(db, campaign)
    if scope_of(user) == "class":
        pairs = [(s, k) for s, k in pairs if k.head_teacher_id == user.id]
    return pairs


async def _decisions(db: AsyncSession, campaign: Campaign) -> dict[uuid.UUID, Consent]:
    rows = (await db.scalars(select(Consent).where(Consent.campaign_id == campaign.id))).all()
    return {c.student_id: c for c in rows}


# --------------------------------------------------------------------------- one student


@dataclass(frozen=True)
class ConsentCandidate:
    student_id: uuid.UUID
    student_number: str
    name: str
    grade: int
    class_name: str
    status: str  # none | granted | refused | withdrawn
    guardian_name: str | None


@dataclass(frozen=True)
class ConsentList:
    campaign: CampaignSummary
    rows: list[ConsentCandidate]  # by class, then student number
    selected: ConsentCandidate | None


def _matches(query: str, student: Student) -> bool:
    if not query:
        return True
    folded = nfkc(query).casefold()
    return folded in nfkc(student.name).casefold() or folded in student.student_number.casefold()


async def consent_list(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    *,
    query: str,
    selected: uuid.UUID | None,
    now: datetime,
) -> ConsentList:
    """The campaign's students in the caller's scope matching ``query`` (a part of the name or
    student number), with their current decision; ``selected``: the one to record for (404
    when it is not one of them). Audited as a read of the list."""
    permissions.require(user, "consent.record")
    campaign = await campaign_in_scope(db, user, campaign_id)
    decisions = await _decisions(db, campaign)
    pairs = await _students(db, user, campaign)

    def candidate(student: Student, klass: SchoolClass) -> ConsentCandidate:
        row = decisions.get(student.id)
        return ConsentCandidate(
            student_id=student.id,
            student_number=student.student_number,
            name=student.name,
            grade=klass.grade,
            class_name=klass.name,
            status=row.status if row is not None else "none",
            guardian_name=row.guardian_name if row is not None else None,
        )

    rows = [candidate(s, k) for s, k in pairs if _matches(query, s)]
    chosen = None
    if selected is not None:
        chosen = next((candidate(s, k) for s, k in pairs if s.id == selected), None)
        if chosen is None:
            raise NotFound("No such student in this campaign", code="student_not_found")
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="campaign.consents",
        subject_type="campaign",
        subject_ids=[campaign.id],
        school_id=campaign.school_id,
        now=now,
        detail={"shown": len(rows)},
    )
    return ConsentList(await summary(db, campaign, now), rows, chosen)


def _invalid(zh: str, en: str) -> Unprocessable:
    return Unprocessable(en, code="invalid_consent", message={"zh-CN": zh, "en": en})


async def record_decision(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    *,
    student_id: str,
    decision: str,
    guardian_name: str,
    method: str,
    reason: str,
    rt: Runtime,
    now: datetime,
) -> str:
    """Record one guardian's decision as a form gives it: ``granted`` or ``refused``
    (``service.record_consent``), or ``withdrawn`` (``consents.withdraw_consent``, which also
    needs ``consent.withdraw``). 422 naming the field for a bad value; 404 for a student who is
    not one of the campaign's in the caller's scope. Returns the decision recorded."""
    permissions.require(user, "consent.record")
    try:
        student = uuid.UUID(student_id)
    except ValueError:
        raise _invalid("请先选择学生。", "Choose a student first.") from None
    if decision not in DECISIONS:
        raise _invalid(
            "请选择监护人的决定：同意、不同意或撤回同意。",
            "Choose the guardian's decision: consent, decline or withdraw consent.",
        )
    if method not in consents.VERIFICATION_METHODS:
        raise _invalid("请选择确认方式。", "Choose how the decision was confirmed.")
    campaign = await campaign_in_scope(db, user, campaign_id)
    if student not in {s.id for s, _ in await _students(db, user, campaign)}:
        raise NotFound("No such student in this campaign", code="student_not_found")
    name = guardian_name.strip() or None
    try:
        if decision == "withdrawn":
            permissions.require(user, "consent.withdraw")
            withdrawal = msgspec.convert(
                {"channel": method, "reason": reason.strip() or None, "guardian_name": name},
                consents.WithdrawalIn,
            )
        else:
            data = msgspec.convert(
                {
                    "student_id": str(student),
                    "status": decision,
                    "guardian_name": name,
                    "verification_method": method,
                },
                campaigns.ConsentIn,
            )
    except msgspec.ValidationError as exc:
        raise _invalid(
            "监护人姓名或原因太长，或含有不允许的字符（姓名最多 200 字，原因最多 4000 字）。",
            "The guardian's name or the reason is too long or holds characters that are not "
            "allowed (a name up to 200 characters, a reason up to 4,000).",
        ) from exc
    if decision == "withdrawn":
        await consents.withdraw_consent(db, user, campaign.id, student, withdrawal, rt=rt, now=now)
    else:
        await campaigns.record_consent(db, user, campaign.id, data, now=now)
    return decision


# --------------------------------------------------------------------------- the spreadsheet


@dataclass(frozen=True)
class ImportRow:
    row: int
    student_number: str
    value: str  # as typed
    decision: str | None  # granted | refused (None: the value is not one we read)
    student_id: uuid.UUID | None
    name: str | None
    class_name: str | None
    current: str  # none | granted | refused | withdrawn
    problem: str | None  # empty_number | unknown_student | duplicate | bad_value

    @property
    def changes(self) -> bool:
        return self.problem is None and self.decision != self.current


@dataclass(frozen=True)
class ImportPreview:
    campaign: CampaignSummary
    rows: list[ImportRow]

    @property
    def problems(self) -> int:
        return sum(1 for r in self.rows if r.problem)

    @property
    def to_apply(self) -> list[ImportRow]:
        return [r for r in self.rows if r.changes]

    @property
    def granted(self) -> int:
        return sum(1 for r in self.to_apply if r.decision == "granted")

    @property
    def refused(self) -> int:
        return sum(1 for r in self.to_apply if r.decision == "refused")

    @property
    def unchanged(self) -> int:
        return sum(1 for r in self.rows if r.problem is None and not r.changes)


def decision_of(value: str) -> str | None:
    """``granted`` / ``refused`` for an accepted cell value, else ``None``."""
    return DECISION_VALUES.get(" ".join(nfkc(value).split()).casefold())


async def _check(
    db: AsyncSession, user: StaffUser, campaign: Campaign, sheet: list[SheetRow], now: datetime
) -> ImportPreview:
    students = {s.student_number: (s, k) for s, k in await _students(db, user, campaign)}
    decisions = await _decisions(db, campaign)
    seen: set[str] = set()
    rows = []
    for line in sheet:
        found = students.get(line.student_number)
        decision = decision_of(line.value)
        problem = None
        if not line.student_number:
            problem = "empty_number"
        elif found is None:
            problem = "unknown_student"
        elif line.student_number in seen:
            problem = "duplicate"
        elif decision is None:
            problem = "bad_value"
        seen.add(line.student_number)
        current = decisions.get(found[0].id) if found else None
        rows.append(
            ImportRow(
                row=line.row,
                student_number=line.student_number,
                value=line.value,
                decision=decision,
                student_id=found[0].id if found else None,
                name=found[0].name if found else None,
                class_name=found[1].name if found else None,
                current=current.status if current is not None else "none",
                problem=problem,
            )
        )
    return ImportPreview(await summary(db, campaign, now), rows)


async def preview_import(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    sheet: list[SheetRow],
    *,
    now: datetime,
) -> ImportPreview:
    """Every row of the spreadsheet with what it would record or its problem. Writes nothing."""
    permissions.require(user, "consent.record")
    campaign = await campaign_in_scope(db, user, campaign_id)
    return await _check(db, user, campaign, sheet, now)


async def apply_import(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    sheet: list[SheetRow],
    *,
    now: datetime,
) -> tuple[ImportPreview, bool]:
    """Check the rows again and, only when none has a problem, record every changed decision
    (``service.record_consent``: a paper slip, verified by the caller) in the caller's
    transaction; audited once. Returns the preview and whether it was applied (not when a row
    has a problem, nor when no row changes anything)."""
    permissions.require(user, "consent.record")
    campaign = await campaign_in_scope(db, user, campaign_id)
    preview = await _check(db, user, campaign, sheet, now)
    if preview.problems or not preview.to_apply:
        return preview, False
    applied = preview.to_apply
    for row in applied:
        assert row.student_id is not None and row.decision is not None
        await campaigns.record_consent(
            db,
            user,
            campaign.id,
            campaigns.ConsentIn(student_id=row.student_id, status=row.decision),
            now=now,
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="consent.import",
        subject_type="student",
        subject_ids=[r.student_id for r in applied if r.student_id is not None],
        school_id=campaign.school_id,
        now=now,
        detail={"rows": len(preview.rows), "granted": preview.granted, "refused": preview.refused},
    )
    return preview, True
