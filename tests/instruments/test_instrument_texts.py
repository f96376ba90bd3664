"""Item texts are the published wording from shared/reference/instrument-texts.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from instruments import Instrument, default_catalogue

CATALOGUE = default_catalogue()
REFERENCE = (
    Path(
        os.environ.get(
            "RUNXIN_REFERENCE_DIR",
            str(Path(__file__).resolve().parents[3] / "shared" / "reference"),
        )
    )
    / "instrument-texts.md"
)


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


def test_no_chinese_where_none_was_found() -> None:
    for instrument_id in ("phq-a", "asq"):
        instrument = CATALOGUE.get(instrument_id)
        assert "zh-CN" not in instrument.languages
        texts = [instrument.title, instrument.instructions]
        texts += [item.text for item in instrument.items]
        texts += [o.text for item in instrument.items for o in item.options]
        assert all(set(t) == {"en"} for t in texts)


def _all_texts(instrument: Instrument) -> list[tuple[str, str]]:
    found = [("title", t) for t in instrument.title.values()]
    found += [("instructions", t) for t in instrument.instructions.values()]
    for item in instrument.items:
        found += [(item.id, t) for t in item.text.values()]
        found += [(f"{item.id} option", t) for o in item.options for t in o.text.values()]
    return found


@pytest.mark.skipif(not REFERENCE.is_file(), reason="shared/reference is not checked out")
@pytest.mark.parametrize("instrument_id", sorted(CATALOGUE.ids()))
def test_every_shipped_text_is_verbatim_in_the_reference(instrument_id: str) -> None:
    # Line-wrapped paragraphs in the markdown are joined with single spaces before matching.
    reference = re.sub(r"\s*\n\s*", " ", REFERENCE.read_text(encoding="utf-8")).replace("**", "")
    missing = [
        (where, text)
        for where, text in _all_texts(CATALOGUE.get(instrument_id))
        if text not in reference
    ]
    assert missing == []
