"""Notification content: built from the outbox payload, minimal, bilingual, in school time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import pytest
from channel_servers import (
    ANSWER_CANARY,
    CANARIES,
    SCORE_CANARY,
    STUDENT,
    assert_minimal,
    content,
    payload,
)
from hypothesis import given
from hypothesis import strategies as st

from triage.channels import (
    ContentError,
    Lang,
    NotificationContent,
    content_payload,
    render_html,
    render_markdown,
    render_sms_text,
    render_text,
    render_title,
    tier_label,
)

RENDERERS: list[Callable[..., str]] = [render_text, render_markdown, render_html]
DIAGNOSTIC_WORDS = ["抑郁", "焦虑", "自杀", "障碍", "depress", "anxiety", "suicid", "disorder"]


def test_text_message_reads_like_the_issue_example() -> None:
    text = render_text(content())
    assert text.splitlines() == [
        "【润心】需要关注：红色（一级）",
        "学校：润心实验中学 七年级3班",
        "请于 2026-09-07 10:15 前确认",
        "查看：https://runxin.example/cases/c_42",
    ]


def test_english_message() -> None:
    text = render_text(content(), "en")
    assert text.splitlines() == [
        "[Runxin] Needs attention: Red (level 1)",
        "School: 润心实验中学, 七年级3班",
        "Please acknowledge by 2026-09-07 10:15 (Asia/Shanghai)",
        "Open: https://runxin.example/cases/c_42",
    ]


@pytest.mark.parametrize(
    ("tier", "zh", "en"),
    [
        ("red", "红色（一级）", "Red (level 1)"),
        ("orange", "橙色（二级）", "Orange (level 2)"),
        ("yellow", "黄色（三级）", "Yellow (level 3)"),
    ],
)
def test_tier_names(tier: str, zh: str, en: str) -> None:
    assert tier_label(tier) == zh
    assert tier_label(tier, "en") == en
    assert zh in render_title(content(tier=tier))


def test_green_sends_nothing_and_bad_tiers_are_rejected() -> None:
    with pytest.raises(ContentError, match="tier"):
        content(tier="green")
    with pytest.raises(ContentError):
        tier_label("green")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("render", RENDERERS)
def test_no_answers_no_scores_no_name_by_default(render: Callable[..., str], lang: str) -> None:
    text = render(content(), lang)
    assert_minimal(text)
    for word in DIAGNOSTIC_WORDS:
        assert word not in text.lower()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("render", RENDERERS)
def test_name_appears_only_when_enabled(render: Callable[..., str], lang: str) -> None:
    with_name = render(content(names_enabled=True), lang)
    assert STUDENT in with_name
    assert_minimal(with_name, name_allowed=True)
    assert STUDENT not in render(content(names_enabled=True).without_name(), lang)
    assert STUDENT not in render(content(names_enabled=False), lang)


def test_sms_text_never_names_the_student() -> None:
    text = render_sms_text(content(names_enabled=True))
    assert text == (
        "【润心】七年级3班（润心实验中学）有学生需要关注：红色（一级），"
        "请于 2026-09-07 10:15 前确认。https://runxin.example/cases/c_42"
    )
    assert_minimal(text)
    assert_minimal(render_sms_text(content(names_enabled=True), "en"))


def test_from_payload_keeps_only_allowed_keys() -> None:
    built = content(names_enabled=True)
    encoded = msgspec.json.encode(built).decode()
    assert ANSWER_CANARY not in encoded and SCORE_CANARY not in encoded
    assert built.student_name == STUDENT and built.names_enabled
    assert content().student_name is None
    assert STUDENT not in repr(built)


def test_direct_construction_is_validated_too() -> None:
    built = content()
    for field, value in (("tier", "green"), ("action", "diagnose"), ("escalation_level", 1.5)):
        with pytest.raises(ContentError, match=field):
            msgspec.structs.replace(built, **{field: value})


def test_content_cannot_carry_a_name_without_names_enabled() -> None:
    built = content()
    with pytest.raises(ContentError, match="names"):
        msgspec.structs.replace(built, student_name=STUDENT)
    assert content(names_enabled=True).for_channel(names_enabled=False).student_name is None
    kept = content(names_enabled=True)
    assert kept.for_channel(names_enabled=True) is kept


def test_deadline_is_shown_in_the_school_time_zone() -> None:
    # 02:15 UTC is 10:15 in Shanghai and 08:15 in Urumqi (UTC+6).
    assert "请于 2026-09-07 10:15 前确认" in render_text(content())
    urumqi = content(timezone="Asia/Urumqi")
    assert "请于 2026-09-07 08:15（Asia/Urumqi） 前确认" in render_text(urumqi)
    assert "08:15 (Asia/Urumqi)" in render_text(urumqi, "en")
    assert "10:15" in render_text(urumqi, tz="Asia/Shanghai")
    offset = content(deadline="2026-09-07T10:15:00+08:00")
    assert render_text(offset) == render_text(content())


def test_legacy_acknowledge_by_key_and_actions() -> None:
    data = payload(action="contact")
    data["acknowledge_by"] = data.pop("deadline")
    built = NotificationContent.from_payload(data)
    assert built.deadline == datetime.fromisoformat("2026-09-07T02:15:00+00:00")
    assert "请于 2026-09-07 10:15 前联系家长" in render_text(built)
    assert "Please contact the guardian by" in render_text(built, "en")


def test_escalation_wording() -> None:
    escalated = content(event="case.escalated", escalation_level=2, recipient_role="school_lead")
    assert render_title(escalated) == "【润心】升级提醒（第2步）：红色（一级）"
    assert render_title(escalated, "en") == "[Runxin] Escalation (step 2): Red (level 1)"
    reminder = content(event="case.reminder", tier="orange")
    assert render_title(reminder) == "【润心】跟进提醒：橙色（二级）"
    assert render_title(content(event="case.other")) == "【润心】需要关注：红色（一级）"


def test_names_are_inert_in_markdown_and_escaped_in_html() -> None:
    names: dict[str, Any] = {"school": "A*B [x](https://evil.example) <b>#", "class": "1\n**2**"}
    tricky = content(**names)
    markdown = render_markdown(tricky)
    assert "[x](https://evil.example)" not in markdown
    assert "<b>" not in markdown and "\n**2**" not in markdown
    assert markdown.count("](") == 1  # only the case link
    page = render_html(tricky)
    assert "<b>#" not in page and "&lt;b&gt;" in page
    text = render_text(tricky)
    assert len(text.splitlines()) == 4  # a newline in a name cannot add a line


def test_link_with_parentheses_stays_one_markdown_link() -> None:
    built = content(link="https://runxin.example/cases/(c_42)")
    assert "[查看详情](https://runxin.example/cases/%28c_42%29)" in render_markdown(built)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"deadline": "2026-09-07T10:15:00"}, "timezone-aware"),
        ({"link": "javascript:alert(1)"}, "http"),
        ({"link": "https://x.example/a b"}, "whitespace"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"school": "  "}, "school_name"),
        ({"escalation_level": -1}, "escalation_level"),
        ({"event": "Case Opened"}, "event"),
        ({"link": None}, "link"),
        ({"delivery_id": "dlv\r\nBcc: x"}, "delivery_id"),
        ({"delivery_id": "dlv é"}, "delivery_id"),
        ({"action": "diagnose"}, "action"),
    ],
)
def test_bad_payloads_are_content_errors(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ContentError, match=match):
        content(**overrides)
    assert issubclass(ContentError, ValueError)


def test_payload_must_be_a_mapping() -> None:
    with pytest.raises(ContentError, match="mapping"):
        NotificationContent.from_payload(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_webhook_payload_is_minimal() -> None:
    body = content_payload(content())
    assert set(body) == {
        "delivery_id",
        "event",
        "tier",
        "school",
        "class",
        "deadline",
        "action",
        "link",
        "escalation_level",
        "recipient_role",
        "timezone",
    }
    assert body["deadline"] == "2026-09-07T02:15:00Z"
    assert content_payload(content(names_enabled=True))["student_name"] == STUDENT


@given(
    tier=st.sampled_from(["yellow", "orange", "red"]),
    event=st.sampled_from(["case.opened", "case.escalated", "case.reminder"]),
    level=st.integers(0, 5),
    lang=st.sampled_from(["zh-CN", "en"]),
    names=st.booleans(),
    # Hypothesis also draws the literals of the code under test ("answers"): a school of that
    # name is the test's own canary, not a leak.
    school=st.text(min_size=1, max_size=80).filter(
        lambda s: s.strip() and "王" not in s and not any(c in s for c in CANARIES)
    ),
    tz=st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "Europe/London"]),
)
def test_every_rendering_is_minimal(
    *, tier: str, event: str, level: int, lang: Lang, names: bool, school: str, tz: str
) -> None:
    try:
        built = content(
            names_enabled=names,
            tier=tier,
            event=event,
            escalation_level=level,
            school=school,
            timezone=tz,
        )
    except ContentError:
        return  # e.g. a name of control characters only
    for render in RENDERERS:
        text = render(built, lang)
        assert_minimal(text, name_allowed=names)
        assert (STUDENT in text) == names
        assert tier_label(tier, lang) in text
    assert_minimal(render_sms_text(built, lang))
