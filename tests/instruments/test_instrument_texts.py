"""Item texts are the published wording from shared/reference/instrument-texts.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from instruments import Instrument, default_catalogue

CATALOGUE = default_catalogue()
REPO_ROOT = Path(__file__).resolve().parents[2]
# CI keeps the reference next to the repository: <parent>/shared/reference.
REFERENCE = Path(REPO_ROOT).parent / "shared" / "reference" / "instrument-texts.md"


@pytest.mark.parametrize(
    ("instrument_id", "item_id", "language", "text"),
    [
        ("phq9", "item9", "zh-CN", "有不如死掉或用某种方式伤害自己的念头"),
        ("phq9", "item1", "zh-CN", "做事时提不起劲或没有兴趣"),
        (
            "phq9",
            "item8",
            "zh-CN",
            "动作或说话速度缓慢到别人已经觉察？或正好相反——烦躁或坐立不安、动来动去的情况更胜于平常",
        ),
        (
            "phq9",
            "item9",
            "en",
            "Thoughts that you would be better off dead, or of hurting yourself in some way",
        ),
        ("gad7", "item1", "zh-CN", "感觉紧张，焦虑或急切"),
        ("gad7", "item2", "zh-CN", "不能够停止或控制担忧"),
        ("gad7", "item7", "en", "Feeling afraid, as if something awful might happen"),
        ("phq-a", "item1", "en", "Feeling down, depressed, irritable, or hopeless?"),
        ("phq-a", "item2", "en", "Little interest or pleasure in doing things?"),
        (
            "phq-a",
            "lifetime_attempt",
            "en",
            "Have you EVER, in your WHOLE LIFE, tried to kill yourself or made a suicide attempt?",
        ),
        ("asq", "q1", "en", "In the past few weeks, have you wished you were dead?"),
        ("asq", "q5", "en", "Are you having thoughts of killing yourself right now?"),
        ("phq2", "item2", "zh-CN", "感到心情低落、沮丧或绝望"),
        ("gad2", "item1", "zh-CN", "感觉紧张，焦虑或急切"),
        ("ces-dc", "item4", "en", "I felt like I was just as good as other kids."),
        ("ces-dc", "item20", "en", "It was hard to get started doing things."),
        ("scared", "item20", "en", "I have nightmares about something bad happening to me."),
        ("scared", "item41", "zh-CN", "我是一个害羞的人。"),
        (
            "scared",
            "item39",
            "en",
            "I feel nervous when I am with other children or adults and I have to do something "
            "while they watch me (for example: read aloud, speak, play a game, play a sport).",
        ),
        ("psc17", "item1", "en", "Fidgety, unable to sit still"),
        ("psc17", "item16", "en", "Takes things that do not belong to him or her"),
        ("who5", "item4", "en", "I woke up feeling fresh and rested"),
        ("k6", "item4", "en", "so depressed that nothing could cheer you up"),
        ("k10", "item9", "en", "so sad that nothing could cheer you up"),
        ("k10", "item8", "en", "that everything was an effort"),
    ],
)
def test_item_text_spot_checks(instrument_id: str, item_id: str, language: str, text: str) -> None:
    assert CATALOGUE.get(instrument_id).item(item_id).text[language] == text


def test_option_text_spot_checks() -> None:
    phq9 = CATALOGUE.get("phq9").item("item1")
    assert [o.text["zh-CN"] for o in phq9.options] == [
        "完全不会",
        "好几天",
        "一半以上的天数",
        "几乎每天",
    ]
    gad7 = CATALOGUE.get("gad7").item("item1")
    assert [o.text["zh-CN"] for o in gad7.options] == ["完全不会", "好几天", "超过一周", "几乎每天"]
    assert [o.text["en"] for o in gad7.options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]


def test_instructions_and_titles() -> None:
    phq9 = CATALOGUE.get("phq9")
    assert phq9.instructions["zh-CN"] == "在过去两个星期，有多少时候您受到以下任何问题所困扰？"
    assert phq9.title["zh-CN"] == "患者健康问卷-9（PHQ-9）"
    assert CATALOGUE.get("phq-a").title == {"en": "PHQ-9 Modified for Teens"}


ENGLISH_ONLY = ("phq-a", "asq", "ces-dc", "psc17", "who5", "k6", "k10")


def test_no_chinese_where_none_was_found() -> None:
    for instrument_id in ENGLISH_ONLY:
        instrument = CATALOGUE.get(instrument_id)
        assert "zh-CN" not in instrument.languages
        texts = [instrument.title, instrument.instructions]
        texts += [item.text for item in instrument.items]
        texts += [o.text for item in instrument.items for o in item.options]
        assert all(set(t) == {"en"} for t in texts)


def _all_texts(instrument: Instrument) -> list[tuple[str, str]]:
    found = [("title", t) for t in instrument.title.values()]
    # A multi-paragraph instruction (K6: lead-in, then the stem) is checked line by line.
    found += [("instructions", line) for t in instrument.instructions.values()
              for line in t.split("\n")]  # fmt: skip
    for item in instrument.items:
        found += [(item.id, t) for t in item.text.values()]
        found += [(f"{item.id} option", t) for o in item.options for t in o.text.values()]
    return found


def test_chinese_only_where_found_with_status_and_source() -> None:
    with_chinese = {i for i in CATALOGUE.ids() if "zh-CN" in CATALOGUE.get(i).languages}
    assert with_chinese == {"phq9", "phq2", "gad7", "gad2", "scared"}
    assert with_chinese.isdisjoint(ENGLISH_ONLY)
    for instrument_id in with_chinese:
        info = CATALOGUE.get(instrument_id).languages["zh-CN"]
        assert info.source.strip()
        expected = "unvalidated" if instrument_id == "scared" else "validated"
        assert info.status == expected


@pytest.mark.parametrize(
    "not_to_ship",
    [
        "平时并不困扰我的事情让我烦恼",  # CES-DC partial translation of unknown origin
        "我感到心情愉快",  # WHO-5 app renderings
        "害怕喜欢自己的人",  # SCARED version A
        "动作或说话速度缓慢到别人可觉察的程度",  # PHQ-9 variant B
    ],
)
def test_texts_marked_do_not_use_are_not_shipped(not_to_ship: str) -> None:
    for instrument_id in CATALOGUE.ids():
        texts = [text for _, text in _all_texts(CATALOGUE.get(instrument_id))]
        assert not any(not_to_ship in text for text in texts), instrument_id


@pytest.mark.skipif(
    not REFERENCE.is_file() and os.environ.get("CI") != "true",  # CI=true: a missing file fails
    reason=f"the reference file is not checked out next to the repository ({REFERENCE})",
)
@pytest.mark.parametrize("instrument_id", sorted(CATALOGUE.ids()))
def test_every_shipped_text_is_verbatim_in_the_reference(instrument_id: str) -> None:
    # The markdown wraps long lines: a wrap between two Chinese characters is read as nothing,
    # any other wrap as one space.
    raw = REFERENCE.read_text(encoding="utf-8").replace("**", "")
    cjk = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
    reference = re.sub(rf"(?<=[{cjk}])[ \t]*\n\s*(?=[{cjk}])", "", raw)
    reference = re.sub(r"\s*\n\s*", " ", reference)
    missing = [
        (where, text)
        for where, text in _all_texts(CATALOGUE.get(instrument_id))
        if text not in reference
    ]
    assert missing == []
