"""Standing care duties on a concrete 2026-2027 school year and on random calendars."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from care_calendars import (
    AUTUMN_2026,
    CAL_2026,
    SH,
    SPRING_2027,
    YEAR_2026,
    calendar_and_year,
    d,
    opened_in,
    sh,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import (
    DEFAULT_POLICY_PATH,
    CalendarError,
    CareTask,
    ExamPeriod,
    ReferralStageError,
    SchoolCalendar,
    SchoolYear,
    TaskDeadline,
    TermSchedule,
    check_referral_advance,
    generate_care_tasks,
    load_policy,
    referral_follow_up,
    referral_stage_next,
)

POLICY = load_policy()


def windows(tasks: tuple[CareTask, ...]) -> dict[str, tuple[datetime, datetime]]:
    return {t.key: (t.opens_at.astimezone(SH), t.due_at.astimezone(SH)) for t in tasks}


def policy_with(tmp_path: Path, **care: object) -> object:
    doc = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    doc["version"] = "test-care"
    doc["care"].update(care)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return load_policy(path)


# -- the 2026-2027 school year -------------------------------------------------------------------


def test_case_opened_mid_september_gets_every_remaining_window() -> None:
    tasks = generate_care_tasks(
        "yellow",
        opened_at=sh(2026, 9, 15, 10),
        calendar=CAL_2026,
        policy=POLICY,
        school_year=YEAR_2026,
    )
    assert windows(tasks) == {
        # The start-of-term window (1-14 Sep) is over: left out.
        "talk_before_midterm:2026-09-01": (sh(2026, 11, 2, 8), sh(2026, 11, 6, 17)),
        "talk_after_midterm:2026-09-01": (sh(2026, 11, 11, 8), sh(2026, 11, 17, 17)),
        "talk_before_final:2026-09-01": (sh(2027, 1, 11, 8), sh(2027, 1, 15, 17)),
        # Only two school days are left after the final exam: the window is cut to the term.
        "talk_after_final:2026-09-01": (sh(2027, 1, 21, 8), sh(2027, 1, 22, 17)),
        "talk_start_of_term:2027-02-22": (sh(2027, 2, 22, 8), sh(2027, 3, 5, 17)),
        "rescreen:2027-02-22": (sh(2027, 2, 22, 8), sh(2027, 3, 5, 17)),
        "talk_before_midterm:2027-02-22": (sh(2027, 4, 12, 8), sh(2027, 4, 16, 17)),
        "talk_after_midterm:2027-02-22": (sh(2027, 4, 21, 8), sh(2027, 4, 27, 17)),
        "talk_before_final:2027-02-22": (sh(2027, 6, 21, 8), sh(2027, 6, 25, 17)),
        "talk_after_final:2027-02-22": (sh(2027, 7, 1, 8), sh(2027, 7, 2, 17)),
        # Yearly by default (Jiangsu checklist item 14): due by the year's last school day.
        "home_visit:2026-2027": (sh(2026, 9, 15, 10), sh(2027, 7, 2, 17)),
    }
    assert [t.due_at for t in tasks] == sorted(t.due_at for t in tasks)
    assert all(t.opens_at.tzinfo is UTC and t.due_at.tzinfo is UTC for t in tasks)
    assert tasks[0].as_deadline() == TaskDeadline(
        kind="talk_before_midterm", due_at=tasks[0].due_at
    )


def test_start_of_term_window_counts_school_days_and_starts_when_the_case_opens() -> None:
    # Opened on 3 Sep, during the start-of-term window: it opens now, due on the 10th school day.
    tasks = generate_care_tasks(
        "orange",
        opened_at=sh(2026, 9, 3, 12),
        calendar=CAL_2026,
        policy=POLICY,
        school_year=YEAR_2026,
    )
    assert windows(tasks)["talk_start_of_term:2026-09-01"] == (
        sh(2026, 9, 3, 12),
        sh(2026, 9, 14, 17),
    )


def test_national_day_and_make_up_days_shape_the_exam_windows() -> None:
    # A mid-term on 12-13 Oct: the five school days before it are 28-30 Sep, 8-9 Oct and the
    # make-up Saturday 10 Oct; 1-7 Oct are holidays.
    autumn = msgspec.structs.replace(
        AUTUMN_2026, midterm_exam=ExamPeriod(d("2026-10-12"), d("2026-10-13"))
    )
    year = SchoolYear(label="2026-2027", terms=(autumn, SPRING_2027))
    tasks = windows(
        generate_care_tasks(
            "red",
            opened_at=sh(2026, 9, 1, 8),
            calendar=CAL_2026,
            policy=POLICY,
            school_year=year,
        )
    )
    assert tasks["talk_before_midterm:2026-09-01"] == (sh(2026, 9, 29, 8), sh(2026, 10, 10, 17))
    assert tasks["talk_after_midterm:2026-09-01"] == (sh(2026, 10, 14, 8), sh(2026, 10, 20, 17))
    # The make-up Sunday 20 Sep is no part of the first ten school days (1-14 Sep).
    assert tasks["talk_start_of_term:2026-09-01"] == (sh(2026, 9, 1, 8), sh(2026, 9, 14, 17))


def test_term_cadence_gives_a_home_visit_per_term(tmp_path: Path) -> None:
    policy = policy_with(
        tmp_path, home_visit={"cadence": {"yellow": "school_year", "orange": "term", "red": "term"}}
    )
    for tier, expected in (
        ("red", {"home_visit:2026-09-01", "home_visit:2027-02-22"}),
        ("yellow", {"home_visit:2026-2027"}),
    ):
        tasks = generate_care_tasks(
            tier,  # type: ignore[arg-type]
            opened_at=sh(2026, 9, 15, 10),
            calendar=CAL_2026,
            policy=policy,  # type: ignore[arg-type]
            school_year=YEAR_2026,
        )
        assert {t.key for t in tasks if t.kind == "home_visit"} == expected
    red = windows(
        generate_care_tasks(
            "red",
            opened_at=sh(2026, 9, 15, 10),
            calendar=CAL_2026,
            policy=policy,
            school_year=YEAR_2026,  # type: ignore[arg-type]
        )
    )
    assert red["home_visit:2026-09-01"] == (sh(2026, 9, 15, 10), sh(2027, 1, 22, 17))
    assert red["home_visit:2027-02-22"] == (sh(2027, 2, 22, 8), sh(2027, 7, 2, 17))


def test_windows_come_from_the_policy(tmp_path: Path) -> None:
    policy = policy_with(
        tmp_path,
        talks={
            "start_of_term_school_days": 3,
            "before_exam_school_days": 1,
            "after_exam_school_days": 2,
        },
        rescreen={"within_school_days": 5, "fallback": "P120D"},
    )
    tasks = windows(
        generate_care_tasks(
            "yellow",
            opened_at=sh(2026, 8, 20),
            calendar=CAL_2026,
            policy=policy,
            school_year=YEAR_2026,  # type: ignore[arg-type]
        )
    )
    assert tasks["talk_start_of_term:2026-09-01"] == (sh(2026, 9, 1, 8), sh(2026, 9, 3, 17))
    assert tasks["talk_before_midterm:2026-09-01"] == (sh(2026, 11, 6, 8), sh(2026, 11, 6, 17))
    assert tasks["talk_after_midterm:2026-09-01"] == (sh(2026, 11, 11, 8), sh(2026, 11, 12, 17))
    # Opened in the summer: "next term" is the first term of the year.
    assert tasks["rescreen:2026-09-01"] == (sh(2026, 9, 1, 8), sh(2026, 9, 7, 17))


def test_rescreen_in_the_last_term_uses_the_calendars_next_term_or_the_fallback() -> None:
    spring_opened = sh(2027, 3, 10, 9)
    tasks = windows(
        generate_care_tasks(
            "yellow",
            opened_at=spring_opened,
            calendar=CAL_2026,
            policy=POLICY,
            school_year=YEAR_2026,
        )
    )
    # The calendar knows no term after spring 2027: 120 days later, on weekdays.
    fallback_start = (spring_opened + timedelta(days=120)).date()  # 2027-07-08, a Thursday
    assert tasks[f"rescreen:{fallback_start.isoformat()}"] == (
        sh(2027, 7, 8, 8),
        sh(2027, 7, 21, 17),
    )
    autumn_2027 = TermSchedule(start=d("2027-09-01"), end=d("2028-01-21"))
    calendar = msgspec.structs.replace(CAL_2026, terms=(*CAL_2026.terms, autumn_2027.as_term()))
    tasks = windows(
        generate_care_tasks(
            "yellow",
            opened_at=spring_opened,
            calendar=calendar,
            policy=POLICY,
            school_year=YEAR_2026,
        )
    )
    assert tasks["rescreen:2027-09-01"] == (sh(2027, 9, 1, 8), sh(2027, 9, 14, 17))


def test_exam_at_the_edges_of_a_term() -> None:
    term = TermSchedule(
        start=d("2026-09-01"),
        end=d("2026-12-31"),
        midterm_exam=ExamPeriod(d("2026-09-01"), d("2026-09-02")),
        final_exam=ExamPeriod(d("2026-12-30"), d("2026-12-31")),
    )
    calendar = SchoolCalendar(terms=(term.as_term(),))
    tasks = windows(
        generate_care_tasks(
            "yellow",
            opened_at=sh(2026, 8, 1),
            calendar=calendar,
            policy=POLICY,
            school_year=SchoolYear(label="short", terms=(term,)),
        )
    )
    # Nothing before an exam on the first day: the talk is due that day.
    assert tasks["talk_before_midterm:2026-09-01"] == (sh(2026, 9, 1, 8), sh(2026, 9, 1, 17))
    # Nothing after an exam on the last days: the talk is due on the term's last school day.
    assert tasks["talk_after_final:2026-09-01"] == (sh(2026, 12, 31, 8), sh(2026, 12, 31, 17))


def test_errors() -> None:
    kwargs = {"calendar": CAL_2026, "policy": POLICY, "school_year": YEAR_2026}
    with pytest.raises(ValueError, match="case tier"):
        generate_care_tasks("green", opened_at=sh(2026, 9, 1), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_care_tasks("red", opened_at=datetime(2026, 9, 1), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"after school year '2026-2027' ends \(2027-07-02\)"):
        generate_care_tasks("red", opened_at=sh(2027, 7, 3), **kwargs)  # type: ignore[arg-type]
    outside = SchoolYear(
        label="x", terms=(TermSchedule(start=d("2027-08-01"), end=d("2027-08-30")),)
    )
    with pytest.raises(CalendarError, match="not inside any term"):
        generate_care_tasks(
            "red",
            opened_at=sh(2026, 9, 1),
            calendar=CAL_2026,
            policy=POLICY,
            school_year=outside,
        )
    no_school = SchoolCalendar(
        holidays=frozenset(d("2026-09-01") + timedelta(days=n) for n in range(7))
    )
    week = SchoolYear(label="w", terms=(TermSchedule(start=d("2026-09-01"), end=d("2026-09-07")),))
    with pytest.raises(CalendarError, match="no school day"):
        generate_care_tasks(
            "red", opened_at=sh(2026, 9, 1), calendar=no_school, policy=POLICY, school_year=week
        )


def test_school_year_and_term_validation() -> None:
    with pytest.raises(CalendarError, match="outside the term"):
        TermSchedule(
            start=d("2026-09-01"),
            end=d("2027-01-22"),
            final_exam=ExamPeriod(d("2027-01-20"), d("2027-01-25")),
        )
    with pytest.raises(CalendarError, match="must end before the final exam starts"):
        TermSchedule(
            start=d("2026-09-01"),
            end=d("2027-01-22"),
            midterm_exam=ExamPeriod(d("2026-11-09"), d("2026-11-10")),
            final_exam=ExamPeriod(d("2026-11-10"), d("2026-11-12")),
        )
    with pytest.raises(CalendarError, match="before it starts"):
        ExamPeriod(d("2026-11-10"), d("2026-11-09"))
    with pytest.raises(CalendarError, match="before it starts"):
        TermSchedule(start=d("2026-09-01"), end=d("2026-08-01"))
    with pytest.raises(CalendarError, match="overlap"):
        SchoolYear(label="y", terms=(AUTUMN_2026, AUTUMN_2026))
    with pytest.raises(CalendarError, match="at least one term"):
        SchoolYear(label="y", terms=())
    with pytest.raises(CalendarError, match="label"):
        SchoolYear(label=" ", terms=(AUTUMN_2026,))
    assert SchoolYear(label="y", terms=(SPRING_2027, AUTUMN_2026)).terms == (
        AUTUMN_2026,
        SPRING_2027,
    )
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(
            b'{"start": "2026-09-01", "end": "2026-12-01", "x": 1}', type=TermSchedule
        )


# -- referral follow-up ---------------------------------------------------------------------------


def test_referral_stages_run_in_order() -> None:
    assert [referral_stage_next(s) for s in ("sent", "accepted", "seen", "feedback")] == [
        "accepted",
        "seen",
        "feedback",
        None,
    ]
    assert check_referral_advance("sent", "accepted") == "accepted"
    with pytest.raises(
        ReferralStageError, match="cannot record 'seen': the next stage is 'accepted'"
    ):
        check_referral_advance("sent", "seen")
    with pytest.raises(ReferralStageError, match="complete"):
        check_referral_advance("feedback", "sent")
    with pytest.raises(ReferralStageError, match="unknown referral stage 'lost'"):
        referral_stage_next("lost")  # type: ignore[arg-type]


def test_referral_follow_up_deadlines_cross_national_day() -> None:
    sent = referral_follow_up(
        "sent", reached_at=sh(2026, 9, 30, 15), calendar=CAL_2026, policy=POLICY
    )
    assert sent is not None
    assert (sent.kind, sent.opens_at, sent.due_at) == (
        "referral_accepted",
        sh(2026, 9, 30, 15),
        sh(2026, 10, 8, 17),  # next school day after the holiday
    )
    accepted = referral_follow_up(
        "accepted", reached_at=sh(2026, 10, 8, 11), calendar=CAL_2026, policy=POLICY
    )
    assert accepted is not None
    # Five school days: 9 Oct, the make-up Saturday 10 Oct, 12, 13 and 14 Oct.
    assert (accepted.kind, accepted.due_at) == ("referral_seen", sh(2026, 10, 14, 17))
    seen = referral_follow_up(
        "seen", reached_at=sh(2026, 10, 14, 9), calendar=CAL_2026, policy=POLICY
    )
    assert seen is not None and seen.kind == "referral_feedback"
    assert (
        referral_follow_up(
            "feedback", reached_at=sh(2026, 10, 20), calendar=CAL_2026, policy=POLICY
        )
        is None
    )


# -- properties -----------------------------------------------------------------------------------

TIERS = st.sampled_from(["yellow", "orange", "red"])


def local(calendar: SchoolCalendar, t: datetime) -> datetime:
    return t.astimezone(ZoneInfo(calendar.timezone))


def dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def school_days_in(calendar: SchoolCalendar, first: date, last: date) -> int:
    return sum(
        calendar.is_school_day(first + timedelta(days=n)) for n in range((last - first).days + 1)
    )


@settings(max_examples=150, deadline=None)
@given(st.data(), calendar_and_year(), TIERS)
def test_tasks_are_never_due_before_opening_and_windows_sit_on_school_days_in_the_term(
    data: st.DataObject, cal_year: tuple[SchoolCalendar, SchoolYear], tier: str
) -> None:
    calendar, year = cal_year
    opened = data.draw(opened_in(calendar, year))
    tasks = generate_care_tasks(
        tier,
        opened_at=opened,
        calendar=calendar,
        policy=POLICY,
        school_year=year,  # type: ignore[arg-type]
    )
    care = POLICY.care_policy()
    terms = {term.start.isoformat(): term for term in year.terms}
    keys = [t.key for t in tasks]
    assert len(keys) == len(set(keys))
    assert all(a.due_at <= b.due_at for a, b in itertools.pairwise(tasks))
    [rescreen] = [t for t in tasks if t.kind == "rescreen"]
    opened_day = local(calendar, opened).date()
    rescreen_day = local(calendar, rescreen.opens_at).date()
    term_firsts = {
        next((day for day in dates(t.start, t.end) if calendar.is_school_day(day)), None)
        for t in (*year.terms, *calendar.terms)
        if t.start > opened_day
    }
    # Next term: its first school day, or (no next term known) after the school year.
    in_next_term = rescreen_day in term_firsts
    assert in_next_term or rescreen_day > year.end
    for task in tasks:
        assert task.opens_at >= opened, task
        assert task.due_at > opened, task
        assert task.opens_at < task.due_at, task
        first, last = local(calendar, task.opens_at), local(calendar, task.due_at)
        # Due at the end of school hours of a school day (a weekday for a fallback re-screen).
        days = calendar
        if task.kind == "rescreen" and not in_next_term:
            days = calendar.without_terms()
        assert days.is_school_day(last.date()), task
        assert last.time() == calendar.end_time, task
        # Open from the start of a school day, or from the opening if later.
        assert task.opens_at == opened or (
            days.is_school_day(first.date()) and first.time() == calendar.start_time
        ), task
        if task.kind.startswith("talk_") or (
            task.key.startswith("home_visit:") and task.key[11:] in terms
        ):
            term = terms[task.key.split(":")[1]]
            assert term.start <= first.date() or task.opens_at == opened
            assert term.start <= last.date() <= term.end, task
        if task.kind == "talk_start_of_term":
            term = terms[task.key.split(":")[1]]
            assert school_days_in(calendar, term.start, last.date()) <= (
                care.talks.start_of_term_school_days
            )
        for kind, attribute in (
            ("talk_before_midterm", "midterm_exam"),
            ("talk_before_final", "final_exam"),
        ):
            if task.kind == kind:
                term = terms[task.key.split(":")[1]]
                exam = getattr(term, attribute)
                if school_days_in(calendar, term.start, exam.start - timedelta(days=1)):
                    assert last.date() < exam.start
                    assert school_days_in(calendar, first.date(), last.date()) <= (
                        care.talks.before_exam_school_days
                    )
        for kind, attribute in (
            ("talk_after_midterm", "midterm_exam"),
            ("talk_after_final", "final_exam"),
        ):
            if task.kind == kind:
                term = terms[task.key.split(":")[1]]
                exam = getattr(term, attribute)
                if school_days_in(calendar, exam.end + timedelta(days=1), term.end):
                    assert first.date() > exam.end or task.opens_at == opened
                    assert last.date() > exam.end
                    assert school_days_in(calendar, exam.end + timedelta(days=1), last.date()) <= (
                        care.talks.after_exam_school_days
                    )


@settings(max_examples=75, deadline=None)
@given(st.data(), calendar_and_year(), TIERS)
def test_a_later_opening_only_drops_tasks_and_keeps_their_due_times(
    data: st.DataObject, cal_year: tuple[SchoolCalendar, SchoolYear], tier: str
) -> None:
    calendar, year = cal_year
    first, second = sorted(
        [data.draw(opened_in(calendar, year)), data.draw(opened_in(calendar, year))]
    )
    early = generate_care_tasks(
        tier,
        opened_at=first,
        calendar=calendar,
        policy=POLICY,
        school_year=year,  # type: ignore[arg-type]
    )
    late = generate_care_tasks(
        tier,
        opened_at=second,
        calendar=calendar,
        policy=POLICY,
        school_year=year,  # type: ignore[arg-type]
    )
    early_due = {t.key: t.due_at for t in early if t.kind != "rescreen"}
    late_due = {t.key: t.due_at for t in late if t.kind != "rescreen"}
    # The same keys with the same due times, so the caller can upsert by key.
    assert set(late_due) <= set(early_due)
    assert all(early_due[key] == due for key, due in late_due.items())
