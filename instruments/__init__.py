"""Declarative, versioned screening-instrument definitions and the catalogue.

Definitions are JSON files in ``instruments/definitions/`` decoded with msgspec into frozen
structs and checked at load (see :mod:`instruments._validate`). Typical use::

    from instruments import default_catalogue

    phq9 = default_catalogue().get("phq9")
    language = phq9.resolve_language("zh-CN")
"""

from ._catalogue import Catalogue, default_catalogue, load_catalogue
from ._errors import DefinitionError, UnknownInstrumentError
from ._loader import load_definition, parse_definition
from ._model import (
    FALLBACK_LANGUAGE,
    LANGUAGES,
    RESPONDENTS,
    Instrument,
    Item,
    LanguageInfo,
    Option,
    Respondent,
)
from ._spec import (
    AllOf,
    AnswerIs,
    AnyOf,
    Band,
    BandIs,
    Classification,
    ClassRule,
    CodingScheme,
    CompleteRule,
    Condition,
    CountIn,
    Cutoff,
    FlagRule,
    MissingRule,
    NormBand,
    NormGroup,
    Norms,
    Not,
    PositiveRule,
    ProrateRule,
    RuleBand,
    Scale,
    ScoreIn,
    ScoringSpec,
    Severity,
    Unanswered,
    ValidityRule,
    ZeroFillRule,
)

__all__ = [
    "FALLBACK_LANGUAGE",
    "LANGUAGES",
    "RESPONDENTS",
    "AllOf",
    "AnswerIs",
    "AnyOf",
    "Band",
    "BandIs",
    "Catalogue",
    "ClassRule",
    "Classification",
    "CodingScheme",
    "CompleteRule",
    "Condition",
    "CountIn",
    "Cutoff",
    "DefinitionError",
    "FlagRule",
    "Instrument",
    "Item",
    "LanguageInfo",
    "MissingRule",
    "NormBand",
    "NormGroup",
    "Norms",
    "Not",
    "Option",
    "PositiveRule",
    "ProrateRule",
    "Respondent",
    "RuleBand",
    "Scale",
    "ScoreIn",
    "ScoringSpec",
    "Severity",
    "Unanswered",
    "UnknownInstrumentError",
    "ValidityRule",
    "ZeroFillRule",
    "default_catalogue",
    "load_catalogue",
    "load_definition",
    "parse_definition",
]
