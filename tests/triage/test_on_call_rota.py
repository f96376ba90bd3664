"""The on-call decision (issue 11): who is paged at a moment, given the rota and the calendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from triage import SchoolCalendar
from triage.channels import (
    EmailChannel,
    InAppChannel,
    OnCallError,
    OnCallStaff,
    RecipientRoute,
    SmsChannel,
    WeComChannel,
    check_rota_channels,
    needs_on_call,
    on_call_recipients,
    parse_rota,
)

SH = ZoneInfo("Asia/Shanghai")
HOLIDAY = date(2026, 10, 1)  # National Day, a Thursday
MAKEUP_SUNDAY = date(2026, 9, 27)  # a 调休 make-up school day
CALENDAR = SchoolCalendar(
    timezone="Asia/Shanghai",
    holidays=frozenset({HOLIDAY}),
    makeup_workdays=frozenset({MAKEUP_SUNDAY}),
)

SMS = SmsChannel(name="sms", url="http://127.0.0.1:9/sms")
QUEUE = InAppChannel(name="queue")
MAIL = EmailChannel(name="mail", host="127.0.0.1", sender="runxin@school.example")
ROBOT = WeComChannel(name="robot", url="http://127.0.0.1:9/send?key=K")
ROUTES = {
    "counsellor": RecipientRoute(role="counsellor", channels=(QUEUE, SMS)),
    "school_lead": RecipientRoute(role="school_lead", channels=(MAIL,)),
}
CHANNELS = (QUEUE, SMS, MAIL, ROBOT)
STAFF = (
    OnCallStaff(user_id="lead", role="school_lead"),
    OnCallStaff(user_id="c1", role="counsellor"),
    OnCallStaff(user_id="c2", role="counsellor"),
    OnCallStaff(user_id="head", role="head_teacher"),
)


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


FRIDAY_19 = at(2026, 9, 11, 19)
SATURDAY = at(2026, 9, 12, 11)
HOLIDAY_10 = at(2026, 10, 1, 10)
MAKEUP_SUNDAY_10 = at(2026, 9, 27, 10)
TUESDAY_10 = at(2026, 9, 8, 10)


def paged(rota: object, now: datetime) -> list[tuple[str, str]]:
    picks = on_call_recipients(
        parse_rota(rota), calendar=CALENDAR, now=now, staff=STAFF, routes=ROUTES, channels=CHANNELS
    )
    return [(p.user_id, p.channel) for p in picks]


DEFAULT = [("lead", "mail"), ("c1", "sms"), ("c2", "sms")]


@pytest.mark.parametrize("now", [FRIDAY_19, SATURDAY, HOLIDAY_10])
def test_default_rota_pages_lead_and_counsellors_outside_school_hours(now: datetime) -> None:
    # counsellors on their SMS channel; the lead has none: their route's first channel
    assert paged([], now) == DEFAULT


@pytest.mark.parametrize("now", [TUESDAY_10, MAKEUP_SUNDAY_10])
def test_nobody_is_paged_inside_school_hours(now: datetime) -> None:
    assert paged([], now) == []
    assert paged([{"role": "counsellor", "outside_school_hours": True}], now) == []
    every_hour = [{"role": "counsellor", "windows": [{"days": ["mon", "tue", "sun"]}]}]
    assert paged(every_hour, now) == []


def test_make_up_sunday_evening_is_outside_school_hours() -> None:
    assert paged([], at(2026, 9, 27, 20)) == DEFAULT


def test_end_of_school_day_is_still_school_hours() -> None:
    assert paged([], at(2026, 9, 8, 17, 0)) == []
    assert paged([], at(2026, 9, 8, 17, 1)) == DEFAULT
    assert paged([], at(2026, 9, 8, 7, 59)) == DEFAULT


def test_explicit_rota_with_weekly_windows() -> None:
    rota = {
        "entries": [
            # weeknights, overnight: Monday-Thursday 17:00 to 08:00 the next morning
            {
                "role": "counsellor",
                "channel": "phone",
                "windows": [
                    {"days": ["mon", "tue", "wed", "thu"], "start": "17:00", "end": "08:00"}
                ],
            },
            # Friday evening to Monday morning, and every holiday: the school lead's robot
            {
                "user_id": "lead",
                "channel": "robot",
                "windows": [
                    {"days": ["fri"], "start": "17:00"},
                    {"days": ["sat", "sun"]},
                    {"days": ["mon"], "end": "08:00"},
                ],
            },
            {"user_id": "head", "channel": "mail", "outside_school_hours": True},
        ]
    }
    head = ("head", "mail")
    assert paged(rota, FRIDAY_19) == [("lead", "robot"), head]
    assert paged(rota, SATURDAY) == [("lead", "robot"), head]
    # Friday 07:00 is still Thursday's night
    assert paged(rota, at(2026, 9, 11, 7)) == [("c1", "sms"), ("c2", "sms"), head]
    # Tuesday 21:00
    assert paged(rota, at(2026, 9, 8, 21)) == [("c1", "sms"), ("c2", "sms"), head]
    # a holiday Thursday at 10:00: no window covers it, outside_school_hours does
    assert paged(rota, HOLIDAY_10) == [head]
    assert paged(rota, TUESDAY_10) == []


def test_same_member_and_channel_is_paged_once() -> None:
    rota = [
        {"role": "counsellor", "channel": "sms", "outside_school_hours": True},
        {"user_id": "c1", "outside_school_hours": True},
    ]
    assert paged(rota, SATURDAY) == [("c1", "sms"), ("c2", "sms")]


@pytest.mark.parametrize(
    ("rota", "field"),
    [
        ([{"role": "janitor", "outside_school_hours": True}], "entries[0].role"),
        ([{"outside_school_hours": True}], "entries[0].user_id"),
        (
            [{"role": "counsellor", "user_id": "x", "outside_school_hours": True}],
            "entries[0].user_id",
        ),
        ([{"role": "counsellor"}], "entries[0].windows"),
        (
            [{"role": "counsellor", "windows": [{"days": ["mon"], "start": "25:00"}]}],
            "entries[0].windows[0].start",
        ),
        (
            [{"role": "counsellor", "windows": [{"days": ["mon"], "start": "8:00"}]}],
            "entries[0].windows[0].start",
        ),
        (
            [
                {
                    "role": "counsellor",
                    "windows": [{"days": ["mon"], "start": "18:00", "end": "18:00"}],
                }
            ],
            "entries[0].windows[0].end",
        ),
        ([{"role": "counsellor", "windows": [{"days": []}]}], "entries[0].windows[0].days"),
        (
            [{"role": "counsellor", "windows": [{"days": ["someday"]}]}],
            "entries[0].windows[0].days[0]",
        ),
        (
            [{"role": "counsellor", "outside_school_hours": "yes"}],
            "entries[0].outside_school_hours",
        ),
        ([{"role": "counsellor", "hours": "always"}], "entries[0]"),
        ({"rota": []}, "rota"),
        ("nobody", "entries"),
    ],
)
def test_bad_rotas_name_the_field(rota: object, field: str) -> None:
    with pytest.raises(OnCallError) as caught:
        parse_rota(rota)
    assert caught.value.field == field


def test_channels_must_be_configured_by_name_or_type() -> None:
    ok = parse_rota(
        [
            {"role": "counsellor", "channel": "sms", "outside_school_hours": True},
            {"role": "counsellor", "channel": "phone", "outside_school_hours": True},
            {"role": "counsellor", "channel": "wecom", "outside_school_hours": True},
            {"role": "counsellor", "outside_school_hours": True},
        ]
    )
    check_rota_channels(ok, channels=CHANNELS)
    bad = parse_rota(
        [
            {"role": "counsellor", "outside_school_hours": True},
            {"role": "counsellor", "channel": "pager", "outside_school_hours": True},
        ]
    )
    with pytest.raises(OnCallError) as caught:
        check_rota_channels(bad, channels=CHANNELS)
    assert caught.value.field == "entries[1].channel"
    assert "sms" in caught.value.message  # names the configured channels
    with pytest.raises(OnCallError):
        check_rota_channels(
            parse_rota(
                [{"role": "counsellor", "channel": "dingtalk", "outside_school_hours": True}]
            ),
            channels=CHANNELS,
        )


@pytest.mark.parametrize(
    ("tier", "pathway", "expected"),
    [
        ("red", "crisis", True),
        ("orange", "suicide", True),
        ("red", "suicide", True),
        ("orange", "severity", False),
        ("yellow", "suicide", False),
        ("red", None, False),
    ],
)
def test_only_red_and_orange_suicide_pathways_page_the_rota(
    tier: str, pathway: str | None, expected: bool
) -> None:
    assert needs_on_call(tier, pathway) is expected


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        paged([], datetime(2026, 9, 12, 11))
