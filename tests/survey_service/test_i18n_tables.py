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


def test_every_band_and_flag_of_the_shipped_instruments_has_a_label() -> None:
    """Issue 13: a band or flag code (``acute_positive``, ``phq_item9_positive``) never reaches
    the Chinese UI as English: every code the shipped instruments can produce is labelled."""
    from instruments import default_catalogue

    bands: set[str] = set()
    flags: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, found in (("bands", bands), ("flags", flags)):
                for entry in node.get(key) or []:
                    if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                        found.add(entry["code"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    import json
    from pathlib import Path

    import instruments

    folder = Path(instruments.__file__).parent / "definitions"
    for path in sorted(folder.glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    assert len(default_catalogue().ids()) >= 10 and bands and flags
    assert sorted(bands - set(LABELS["band"])) == []
    assert sorted(flags - set(LABELS["flag"])) == []
