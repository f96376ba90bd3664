"""The loaded instrument: frozen structs built from a validated definition file."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._spec import ScoringSpec

LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
"""The language codes an instrument may carry text in; ``en`` is always present."""

FALLBACK_LANGUAGE = "en"

Respondent = Literal["self", "parent", "teacher"]
"""Who answers the form: the student (``self``), a parent/guardian, or a teacher."""

RESPONDENTS: tuple[str, ...] = ("self", "parent", "teacher")


class LanguageInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Status of one language version of an instrument.

    ``validated`` means a published, validated translation (``source`` cites it);
    ``unvalidated`` text may be used only after a school confirms it.
    """

    status: Literal["validated", "unvalidated"]
    source: str
    note: str = ""


class Option(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One response option: the stored ``value`` and its text per language."""

    value: int
    text: dict[str, str]


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One question with its options; ``min_value``/``max_value`` is its declared value range."""

    id: str
    text: dict[str, str]
    options: tuple[Option, ...]
    min_value: int
    max_value: int
    codes: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def values(self) -> tuple[int, ...]:
        """The allowed answer values, in option order."""
        return tuple(option.value for option in self.options)


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A versioned instrument definition: texts, options, licence and scoring spec.

    ``min_age``/``max_age`` is the age range the instrument is validated for (``age_source``
    cites it); ``respondent`` says who answers it (``respondent_source`` cites the form). A
    definition written before ``respondent`` existed is a self-report form.

    Built only by :func:`instruments.load_definition` (or :func:`instruments.parse_definition`),
    which guarantees that every declared language has text for the title, the instructions,
    every item and every option, and that the scoring spec refers only to existing items.
    """

    id: str
    version: str
    title: dict[str, str]
    instructions: dict[str, str]
    languages: dict[str, LanguageInfo]
    licence: str
    citation: str
    min_age: int
    max_age: int
    items: tuple[Item, ...]
    scoring: ScoringSpec
    age_source: str = ""
    respondent: Respondent = "self"
    respondent_source: str = ""
    codes: dict[str, str] = msgspec.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def self_report(self) -> bool:
        """Whether the student answers the form (not a parent or a teacher)."""
        return self.respondent == "self"

    def resolve_language(self, requested: str) -> str:
        """Return ``requested`` if the instrument has text in it, else ``"en"``."""
        return requested if requested in self.languages else FALLBACK_LANGUAGE

    @property
    def item_ids(self) -> tuple[str, ...]:
        """All item ids in form order, scored and unscored."""
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        """Return the item with ``item_id``; raise ``KeyError`` when there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"instrument {self.id!r} has no item {item_id!r}")
