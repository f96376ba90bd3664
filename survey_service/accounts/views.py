"""Field views per role: what of a student a reader receives (issue 19).

One decision per role (:data:`ROLE_VIEWS`), consulted by every mapper that hands out student
data; no reader-facing code decides on its own whether to show a name.

* ``FULL`` (counsellor, school lead): identities, and the clinical parts (answers, scores,
  reasons) as far as ``triage.VISIBILITY`` grants the role;
* ``CARE`` (school admin, head teacher, teacher): identities, never answers, scores or
  reasons, whatever else the role may see;
* ``AGGREGATE`` (district officer, auditor): no identity (name, student number, class, birth
  date, guardian), no answers, scores, reasons or notes: counts per school and de-identified
  case rows (case id, school, tier, status, times, deadlines, tasks, who was notified).

The only exception is a district officer's break-glass read (``cases.break_glass``): a stated
reason, time-boxed, audited and notified, opens ONE case and its student's file in the full
view (what the school's counsellor sees) until it expires. A role this version does not know
gets the aggregate view.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import msgspec
from sqlalchemy import select

import triage
from survey_service.accounts.permissions import Role, allowed, role_of
from survey_service.db import AsyncSession, BreakGlassGrant, StaffUser


class View(enum.StrEnum):
    """How much of a student a reader receives."""

    FULL = "full"
    CARE = "care"
    AGGREGATE = "aggregate"


ROLE_VIEWS: Mapping[Role, View] = MappingProxyType(
    {
        Role.COUNSELLOR: View.FULL,
        Role.SCHOOL_LEAD: View.FULL,
        Role.SCHOOL_ADMIN: View.CARE,
        Role.HEAD_TEACHER: View.CARE,
        Role.TEACHER: View.CARE,
        Role.DISTRICT_OFFICER: View.AGGREGATE,
        Role.AUDITOR: View.AGGREGATE,
    }
)

#: The parts of a case that are health data about the student: only the full view has them.
CLINICAL_PARTS = frozenset({"answers", "scores", "reasons"})
#: What the aggregate view keeps of a case: its tasks and their deadlines (to act on them).
AGGREGATE_PARTS = frozenset({"tasks"})
#: Whose part visibility a break-glass read gets: the school counsellor's.
BREAK_GLASS_ROLE = Role.COUNSELLOR


def view_of(user: StaffUser) -> View:
    """The view the caller's role gets (the aggregate view for an unknown role)."""
    role = role_of(user)
    return View.AGGREGATE if role is None else ROLE_VIEWS[role]


class Lens(msgspec.Struct, frozen=True):
    """One reader's view of one student (or of a list, without break-glass).

    ``role`` is the role whose ``triage.VISIBILITY`` row decides the care parts inside the
    view; ``break_glass_until`` is set while a break-glass grant widens the view.
    """

    view: View
    role: str
    break_glass_until: datetime | None = None

    @property
    def identity(self) -> bool:
        """Whether names, student numbers, classes, birth dates and guardians are shown."""
        return self.view is not View.AGGREGATE

    @property
    def clinical(self) -> bool:
        """Whether answers, scores and triage reasons may be shown at all."""
        return self.view is View.FULL

    def sees(self, part: str) -> bool:
        """Whether a care ``part`` (``triage.CASE_PARTS``) is shown through this lens."""
        if self.view is View.AGGREGATE and part not in AGGREGATE_PARTS:
            return False
        if part in CLINICAL_PARTS and not self.clinical:
            return False
        try:
            return triage.can_see(self.role, part)  # type: ignore[arg-type]
        except triage.CareGroupError:
            return False


def lens_of(user: StaffUser) -> Lens:
    """The caller's lens from their role alone (lists, counts: never widened)."""
    return Lens(view=view_of(user), role=user.role)


async def active_grant(
    db: AsyncSession,
    user: StaffUser,
    *,
    now: datetime,
    case_id: uuid.UUID | None = None,
    student_id: uuid.UUID | None = None,
) -> BreakGlassGrant | None:
    """The caller's break-glass grant on this case (or this student) in force at ``now``."""
    if (case_id is None) == (student_id is None):
        raise ValueError("give exactly one of case_id and student_id")
    if not allowed(role_of(user), "cases.break_glass"):
        return None
    query = select(BreakGlassGrant).where(
        BreakGlassGrant.user_id == user.id,
        BreakGlassGrant.opened_at <= now,
        BreakGlassGrant.expires_at > now,
    )
    if case_id is not None:
        query = query.where(BreakGlassGrant.case_id == case_id)
    else:
        query = query.where(BreakGlassGrant.student_id == student_id)
    return await db.scalar(query.order_by(BreakGlassGrant.expires_at.desc()).limit(1))


async def lens_for(
    db: AsyncSession,
    user: StaffUser,
    *,
    now: datetime,
    case_id: uuid.UUID | None = None,
    student_id: uuid.UUID | None = None,
) -> Lens:
    """The caller's lens on one case (or one student's file): their role's, widened to the
    full view while a break-glass grant of theirs on it is in force."""
    lens = lens_of(user)
    if lens.view is not View.AGGREGATE:
        return lens
    grant = await active_grant(db, user, now=now, case_id=case_id, student_id=student_id)
    if grant is None:
        return lens
    return Lens(view=View.FULL, role=BREAK_GLASS_ROLE, break_glass_until=grant.expires_at)


def lens_seen(user: StaffUser, view: str, break_glass_until: datetime | None) -> Lens:
    """The lens a reply was made through (its ``view`` and ``break_glass_until`` fields), for
    the pages that decide what of it to show."""
    if break_glass_until is not None:
        return Lens(view=View(view), role=BREAK_GLASS_ROLE, break_glass_until=break_glass_until)
    return Lens(view=View(view), role=user.role)


def role_shows_identity(role: str) -> bool:
    """Whether a notification to ``role`` may carry the student's class (never the name): not
    to a district officer or auditor, nor to a role this version does not know."""
    try:
        return ROLE_VIEWS[Role(role)] is not View.AGGREGATE
    except ValueError:
        return False
