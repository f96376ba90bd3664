"""The on-disk shape of a definition file (decoded by msgspec before semantic checks).

It differs from :class:`instruments.Instrument` only in how options are written: an item's
``options`` is either the name of an entry in ``option_sets`` or an inline option set, and
every option set declares its value range (``min``/``max``) so that a value outside it is an
error. The loader resolves the names into plain option tuples.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from ._model import LanguageInfo, Option, Respondent
from ._spec import ScoringSpec

FORMAT_VERSION = 1


class OptionSetSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Options with their declared value range ``[min, max]``."""

    min: int
    max: int
    options: tuple[Option, ...]


class ItemSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An item as written in the file; ``options`` names an option set or inlines one."""

    id: str
    text: dict[str, str]
    options: str | OptionSetSpec
    codes: dict[str, str] = msgspec.field(default_factory=dict)


class DefinitionFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A whole definition file, format version 1."""

    format: Literal[1]
    id: str
    version: str
    title: dict[str, str]
    instructions: dict[str, str]
    languages: dict[str, LanguageInfo]
    licence: str
    citation: str
    min_age: int
    max_age: int
    items: tuple[ItemSpec, ...]
    scoring: ScoringSpec
    age_source: str = ""
    respondent: Respondent = "self"
    respondent_source: str = ""
    codes: dict[str, str] = msgspec.field(default_factory=dict)
    option_sets: dict[str, OptionSetSpec] = msgspec.field(default_factory=dict)
    notes: tuple[str, ...] = ()
