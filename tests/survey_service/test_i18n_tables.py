"""The page text tables: every key in both languages, nothing left empty."""

from __future__ import annotations

from survey_service.pages.i18n import LABELS, LANGUAGES, TEXT


def test_every_text_key_exists_in_both_languages() -> None:
    assert set(TEXT) == set(LANGUAGES)
    zh, en = set(TEXT["zh-CN"]), set(TEXT["en"])
    assert sorted(zh - en) == [], "keys only in zh-CN"
    assert sorted(en - zh) == [], "keys only in en"


def test_no_text_is_empty() -> None:
    empty = [(lang, k) for lang in LANGUAGES for k, v in TEXT[lang].items() if not v.strip()]
    assert empty == []


def test_every_label_has_both_languages() -> None:
    bad = [
        (group, key)
        for group, labels in LABELS.items()
        for key, pair in labels.items()
        if len(pair) != 2 or not all(p.strip() for p in pair)
    ]
    assert bad == []
