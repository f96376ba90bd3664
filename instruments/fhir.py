"""FHIR R4 interoperability: instruments as ``Questionnaire``, responses as
``QuestionnaireResponse``, and a ``Questionnaire`` imported back as a definition draft.

Pure functions over plain ``dict`` resources (the JSON shape of FHIR R4); no web, database or
clock: the caller passes ``authored`` and the ids. ``docs/fhir.md`` has the full mapping table.

Codes and where they come from
------------------------------
* LOINC (``http://loinc.org``) codes are those the definition files carry in ``codes``: the
  panel (``codes.loinc``) becomes ``Questionnaire.code``, the total score (``codes.loinc_total``)
  the ``code`` of the read-only total item, an item's ``codes.loinc`` that item's ``code``.
  PHQ-9 panel 44249-1, total 44261-6; GAD-7 panel 69737-5, total 70274-6; PHQ-2 panel 55757-9,
  total 55758-7 (LOINC as published at loinc.org, collected in shared/reference/instruments.md
  section 2 and instrument-texts.md sections 1 to 3).
* LOINC answer list LL358-3 (PHQ-9 items 1 to 9: LA6568-5 "Not at all", LA6569-3 "Several
  days", LA6570-1 "More than half the days", LA6571-9 "Nearly every day"; instruments.md
  section 2, [V]) is attached to every item coded with one of the PHQ-9 item codes 44250-9 ...
  44260-8 (also PHQ-2's two items), as the extensions ``loinc-answer-list`` (item) and
  ``loinc-answer`` (each option). GAD-7 items are not given it: LOINC's GAD-7 panel gives item
  68509-9 another list (instrument-texts.md section 2), which was not verified.
* Answer options are coded in a Runxin code system per answer scale of an instrument
  (``{CANONICAL_BASE}/CodeSystem/{instrument}-scale-{n}``): the code is the stored option value,
  ``ordinalValue`` (http://hl7.org/fhir/StructureDefinition/ordinalValue) the item's score for
  it after reverse keying (``min + max - value`` for a reverse-keyed item). An unscored item's
  options carry no ``ordinalValue``.

What does not round-trip: the scoring rules (scales with their missing-data rules, ranges,
bands and cut-offs, norms, classification, positive rules, flag rules, validity rules, the
coding scheme), ``age_source``, ``notes``. A draft made by :func:`from_questionnaire` is marked:
its version ends in ``-draft`` (which the definition loader refuses, so a draft cannot be
installed) and its ``notes`` say what to add; :func:`definition_problems` reports both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from ._errors import DefinitionError
from ._loader import parse_definition
from ._model import FALLBACK_LANGUAGE, LANGUAGES, Instrument, Item
from ._spec import AllOf, AnswerIs, AnyOf, BandIs, Condition, CountIn, Not, Unanswered

#: Runxin has no registered domain: ``.invalid`` (RFC 2606) guarantees that these canonical
#: identifiers never name or reach anyone else's resources. They identify, they do not resolve.
CANONICAL_BASE = "https://runxin.invalid/fhir"
LOINC = "http://loinc.org"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: The R4 predecessor of ``ordinalValue`` (LHC-Forms exports use it); read on import.
ORDINAL_VALUE_OLD = "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
UCUM = "http://unitsofmeasure.org"

EXT_CRITICAL = f"{CANONICAL_BASE}/StructureDefinition/critical-item"
EXT_LANGUAGE = f"{CANONICAL_BASE}/StructureDefinition/language-version"
EXT_RESPONDENT = f"{CANONICAL_BASE}/StructureDefinition/respondent"
EXT_LOINC_ANSWER_LIST = f"{CANONICAL_BASE}/StructureDefinition/loinc-answer-list"
EXT_LOINC_ANSWER = f"{CANONICAL_BASE}/StructureDefinition/loinc-answer"
EXT_VALUE_RANGE = f"{CANONICAL_BASE}/StructureDefinition/value-range"
IDENTIFIER_SYSTEM = f"{CANONICAL_BASE}/instrument-id"
INSTRUCTIONS_LINK_ID = "runxin.instructions"
SCORE_LINK_PREFIX = "score."
DRAFT_SUFFIX = "-draft"
DRAFT_NOTE = "DRAFT:"

#: PHQ-9 item codes whose LOINC answer list is LL358-3 (instruments.md section 2, [V]).
_LL358_3_ITEMS = frozenset(
    {
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    }
)
_LL358_3 = {
    0: ("LA6568-5", "Not at all"),
    1: ("LA6569-3", "Several days"),
    2: ("LA6570-1", "More than half the days"),
    3: ("LA6571-9", "Nearly every day"),
}
_SEVERITY_RANK = {"follow_up": 1, "critical": 2, "acute": 3}
_SCORE_TEXT = {
    "total": {"en": "Total score", "zh-CN": "总分"},
    "subscale": {"en": "Subscale score: {id}", "zh-CN": "分量表得分：{id}"},
}
_FHIR_ID = re.compile(r"[^A-Za-z0-9.-]")
_INSTRUMENT_ID = re.compile(r"[^a-z0-9_-]")


def fhir_language(lang: str) -> str:
    """``zh``/``zh-CN``/``en`` (any case) to a Runxin language code; ``ValueError`` otherwise."""
    low = lang.strip().lower()
    if low in {"zh", "zh-cn", "zh-hans", "zh-hans-cn"}:
        return "zh-CN"
    if low in {"en", "en-us", "en-gb"}:
        return "en"
    allowed = ", ".join(LANGUAGES)
    raise ValueError(f"unknown language {lang!r}; Runxin has text in: {allowed} (or zh)")


def questionnaire_url(instrument_id: str) -> str:
    """The canonical URL of an instrument's Questionnaire (versioned with ``|version``)."""
    return f"{CANONICAL_BASE}/Questionnaire/{instrument_id}"


# --------------------------------------------------------------------------- export


def _translated(texts: Mapping[str, str], lang: str) -> tuple[str, dict[str, Any] | None]:
    """The text in ``lang`` and the ``_element`` holding the other languages' translations."""
    others = [
        {
            "url": TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": other},
                {"url": "content", "valueString": text},
            ],
        }
        for other, text in texts.items()
        if other != lang
    ]
    return texts[lang], ({"extension": others} if others else None)


def _put_text(target: dict[str, Any], name: str, texts: Mapping[str, str], lang: str) -> None:
    text, element = _translated(texts, lang)
    target[name] = text
    if element is not None:
        target[f"_{name}"] = element


def _condition_items(cond: Condition, band_items: Mapping[str, set[str]]) -> Iterator[str]:
    if isinstance(cond, AnswerIs | Unanswered):
        yield cond.item
    elif isinstance(cond, CountIn):
        yield from cond.items
    elif isinstance(cond, AnyOf | AllOf):
        for part in cond.of:
            yield from _condition_items(part, band_items)
    elif isinstance(cond, Not):
        yield from _condition_items(cond.of, band_items)
    elif isinstance(cond, BandIs):
        for band in cond.bands:
            yield from sorted(band_items.get(band, ()))
    # ScoreIn is about a scale (a total), not an item.


def critical_items(instrument: Instrument) -> dict[str, str]:
    """Item id -> the most severe flag severity of the flag rules that look at the item.

    A flag rule looks at its ``item`` and at the items of its condition; a rule on the band of
    a rule-based classification (ASQ) looks at the items of the rules that assign that band.
    """
    band_items: dict[str, set[str]] = {}
    classification = instrument.scoring.classification
    if classification is not None:
        for rule in classification.rules:
            band_items.setdefault(rule.band, set()).update(_condition_items(rule.when, {}))
    out: dict[str, str] = {}
    for flag in instrument.scoring.flags:
        items = set(_condition_items(flag.when, band_items))
        if flag.item is not None:
            items.add(flag.item)
        for item_id in items:
            known = out.get(item_id)
            if known is None or _SEVERITY_RANK[flag.severity] > _SEVERITY_RANK[known]:
                out[item_id] = flag.severity
    return out


def _scale_key(item: Item) -> bytes:
    return msgspec.json.encode((item.options, item.min_value, item.max_value))


def _scale_systems(instrument: Instrument) -> dict[bytes, str]:
    """Each distinct answer scale (options with their range), in item order, -> its system."""
    systems: dict[bytes, str] = {}
    for item in instrument.items:
        key = _scale_key(item)
        if key not in systems:
            systems[key] = f"{CANONICAL_BASE}/CodeSystem/{instrument.id}-scale-{len(systems) + 1}"
    return systems


def _system_of(instrument: Instrument, item: Item) -> str:
    return _scale_systems(instrument)[_scale_key(item)]


def _codings(codes: Mapping[str, str], *, skip: Sequence[str] = ()) -> list[dict[str, str]]:
    out = []
    for key, code in codes.items():
        if key in skip:
            continue
        system = LOINC if key == "loinc" else f"{CANONICAL_BASE}/CodeSystem/code-{key}"
        out.append({"system": system, "code": code})
    return out


def _answer_options(
    instrument: Instrument, item: Item, lang: str, *, scored: bool, reverse: bool
) -> list[dict[str, Any]]:
    system = _system_of(instrument, item)
    loinc_list = item.codes.get("loinc") in _LL358_3_ITEMS and set(item.values) == set(_LL358_3)
    options = []
    for option in item.options:
        coding: dict[str, Any] = {"system": system, "code": str(option.value)}
        _put_text(coding, "display", option.text, lang)
        answer: dict[str, Any] = {"valueCoding": coding}
        extensions: list[dict[str, Any]] = []
        if scored:
            score = item.min_value + item.max_value - option.value if reverse else option.value
            extensions.append({"url": ORDINAL_VALUE, "valueDecimal": score})
        if loinc_list:
            code, display = _LL358_3[option.value]
            extensions.append(
                {
                    "url": EXT_LOINC_ANSWER,
                    "valueCoding": {"system": LOINC, "code": code, "display": display},
                }
            )
        if extensions:
            answer["extension"] = extensions
        options.append(answer)
    return options


def _question(
    instrument: Instrument, item: Item, lang: str, critical: Mapping[str, str]
) -> dict[str, Any]:
    scoring = instrument.scoring
    out: dict[str, Any] = {"linkId": item.id}
    extensions: list[dict[str, Any]] = []
    if item.id in critical:
        extensions.append({"url": EXT_CRITICAL, "valueCode": critical[item.id]})
    if item.codes.get("loinc") in _LL358_3_ITEMS and set(item.values) == set(_LL358_3):
        extensions.append({"url": EXT_LOINC_ANSWER_LIST, "valueUri": f"{LOINC}/vs/LL358-3"})
    values = item.values
    if (item.min_value, item.max_value) != (min(values), max(values)):
        extensions.append(
            {
                "url": EXT_VALUE_RANGE,
                "valueRange": {"low": {"value": item.min_value}, "high": {"value": item.max_value}},
            }
        )
    if extensions:
        out["extension"] = extensions
    codings = _codings(item.codes)
    if codings:
        out["code"] = codings
    _put_text(out, "text", item.text, lang)
    out["type"] = "choice"
    # A student may skip any question (saved as unanswered); the missing-data rules decide.
    out["required"] = False
    out["answerOption"] = _answer_options(
        instrument,
        item,
        lang,
        scored=item.id in scoring.scored_items,
        reverse=item.id in scoring.reverse_items,
    )
    return out


def _score_items(instrument: Instrument, lang: str) -> list[dict[str, Any]]:
    out = []
    total = instrument.scoring.total
    scales = [("total", total)] if total is not None else []
    scales += [("subscale", scale) for scale in instrument.scoring.subscales]
    for kind, scale in scales:
        texts = {
            language: _SCORE_TEXT[kind][language].format(id=scale.id)
            for language in instrument.languages
            if language in _SCORE_TEXT[kind]
        }
        texts.setdefault(FALLBACK_LANGUAGE, _SCORE_TEXT[kind]["en"].format(id=scale.id))
        item: dict[str, Any] = {"linkId": f"{SCORE_LINK_PREFIX}{scale.id}"}
        if kind == "total" and "loinc_total" in instrument.codes:
            item["code"] = [{"system": LOINC, "code": instrument.codes["loinc_total"]}]
        _put_text(item, "text", texts, lang if lang in texts else FALLBACK_LANGUAGE)
        item.update(type="decimal", required=False, readOnly=True)
        out.append(item)
    return out


def _age_context(instrument: Instrument) -> dict[str, Any]:
    def age(years: int) -> dict[str, Any]:
        return {"value": years, "unit": "a", "system": UCUM, "code": "a"}

    return {
        "code": {"system": USAGE_CONTEXT_TYPE, "code": "age"},
        "valueRange": {"low": age(instrument.min_age), "high": age(instrument.max_age)},
    }


def to_questionnaire(instrument: Instrument, *, lang: str = "zh-CN") -> dict[str, Any]:
    """The instrument as a FHIR R4 ``Questionnaire`` resource (a JSON-ready ``dict``).

    Parameters
    ----------
    instrument : Instrument
        Any loaded definition.
    lang : str
        The resource's language (``zh``, ``zh-CN`` or ``en``); it falls back to English where
        the instrument has no text in it. The other language's texts ride along as
        ``translation`` extensions on ``_title``, ``_text`` and ``_display``.

    Returns
    -------
    dict
        ``Questionnaire`` with one ``display`` item (the instructions), one ``choice`` item per
        question in form order, then one read-only ``decimal`` item per scale (total first).

    Raises
    ------
    ValueError
        ``lang`` is not a language Runxin knows.
    """
    lang = instrument.resolve_language(fhir_language(lang))
    critical = critical_items(instrument)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _FHIR_ID.sub("-", instrument.id)[:64],
        "extension": [
            {
                "url": EXT_LANGUAGE,
                "extension": [
                    {"url": "language", "valueCode": code},
                    {"url": "status", "valueCode": info.status},
                    {"url": "source", "valueString": info.source},
                    *([{"url": "note", "valueString": info.note}] if info.note else []),
                ],
            }
            for code, info in instrument.languages.items()
        ],
        "language": lang,
        "url": questionnaire_url(instrument.id),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": instrument.id}],
        "version": instrument.version,
        "name": _computable_name(instrument.id),
    }
    resource["extension"].append(
        {
            "url": EXT_RESPONDENT,
            "extension": [
                {"url": "respondent", "valueCode": instrument.respondent},
                *(
                    [{"url": "source", "valueString": instrument.respondent_source}]
                    if instrument.respondent_source
                    else []
                ),
            ],
        }
    )
    _put_text(resource, "title", instrument.title, lang)
    resource["status"] = "active"
    resource["description"] = instrument.citation
    resource["useContext"] = [_age_context(instrument)]
    resource["copyright"] = instrument.licence
    panel = _codings(instrument.codes, skip=("loinc_total",))
    if panel:
        resource["code"] = panel
    instructions: dict[str, Any] = {"linkId": INSTRUCTIONS_LINK_ID}
    _put_text(instructions, "text", instrument.instructions, lang)
    instructions["type"] = "display"
    resource["item"] = [
        instructions,
        *(_question(instrument, item, lang, critical) for item in instrument.items),
        *_score_items(instrument, lang),
    ]
    return resource


def _computable_name(instrument_id: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", instrument_id))
    return name if name[:1].isalpha() else f"I{name}"


def to_questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, int | None],
    *,
    response_id: str,
    authored: datetime,
    subject_ref: str | None = None,
    lang: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """A stored response as a FHIR R4 ``QuestionnaireResponse`` (a JSON-ready ``dict``).

    Parameters
    ----------
    instrument : Instrument
        The instrument the answers belong to.
    answers : mapping of str to int or None
        Item id -> stored option value; ``None`` (skipped) items are left out of the resource.
    response_id : str
        The resource id (Runxin's response id).
    authored : datetime
        When the response was submitted; must carry a UTC offset.
    subject_ref : str, optional
        An opaque reference (for example ``Patient/<pseudonymous id>``) put in ``subject``
        only when given; the resource never carries a name.
    lang : str, optional
        The language of the item texts (default: the instrument's English text).
    version : str, optional
        The instrument version the answers were given in (default: the instrument's).

    Raises
    ------
    ValueError
        An answer names an unknown item or a value that is not one of the item's options, or
        ``authored`` has no UTC offset.
    """
    if authored.tzinfo is None:
        raise ValueError("authored needs a UTC offset")
    language = instrument.resolve_language(fhir_language(lang or FALLBACK_LANGUAGE))
    known = set(instrument.item_ids)
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValueError(f"answers name unknown items of {instrument.id!r}: {', '.join(unknown)}")
    items = []
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        option = next((o for o in item.options if o.value == value), None)
        if option is None or isinstance(value, bool):
            raise ValueError(
                f"answer {value!r} to item {item.id!r} is not one of its option values "
                f"{list(item.values)}"
            )
        coding = {
            "system": _system_of(instrument, item),
            "code": str(option.value),
            "display": option.text.get(language, option.text[FALLBACK_LANGUAGE]),
        }
        items.append(
            {
                "linkId": item.id,
                "text": item.text.get(language, item.text[FALLBACK_LANGUAGE]),
                "answer": [{"valueCoding": coding}],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": _FHIR_ID.sub("-", response_id)[:64],
        "language": language,
        "questionnaire": f"{questionnaire_url(instrument.id)}|{version or instrument.version}",
        "status": "completed",
    }
    if subject_ref is not None:
        resource["subject"] = {"reference": subject_ref}
    resource["authored"] = authored.isoformat()
    resource["item"] = items
    return resource


# --------------------------------------------------------------------------- import


def _fail(path: str, detail: str) -> ValueError:
    return ValueError(f"{path}: {detail}")


def _texts(node: Mapping[str, Any], name: str, lang: str, path: str) -> dict[str, str]:
    """``node[name]`` in ``lang`` plus its ``translation`` extensions, by Runxin language."""
    text = node.get(name)
    if not isinstance(text, str) or not text.strip():
        raise _fail(f"{path}.{name}", "missing: Runxin needs this text")
    out = {lang: text.strip()}
    element = node.get(f"_{name}") or {}
    for index, ext in enumerate(element.get("extension", []) if isinstance(element, dict) else []):
        if not isinstance(ext, dict) or ext.get("url") != TRANSLATION:
            continue
        epath = f"{path}._{name}.extension[{index}]"
        parts = {p.get("url"): p for p in ext.get("extension", []) if isinstance(p, dict)}
        code = parts.get("lang", {}).get("valueCode")
        content = parts.get("content", {}).get("valueString")
        if not isinstance(code, str) or not isinstance(content, str):
            raise _fail(epath, "a translation needs 'lang' (valueCode) and 'content' (valueString)")
        try:
            language = fhir_language(code)
        except ValueError as exc:
            raise _fail(f"{epath}.extension('lang')", str(exc)) from None
        out[language] = content.strip()
    return out


def _extensions(node: Mapping[str, Any], url: str) -> list[dict[str, Any]]:
    return [
        e for e in node.get("extension", []) or [] if isinstance(e, dict) and e.get("url") == url
    ]


def _parts(ext: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ext.get("extension", []) or []:
        if isinstance(part, dict) and isinstance(part.get("url"), str):
            value = next((v for k, v in part.items() if k.startswith("value")), None)
            out[part["url"]] = value
    return out


def _codes_of(codings: Any, path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(codings, list):
        return out
    prefix = f"{CANONICAL_BASE}/CodeSystem/code-"
    for index, coding in enumerate(codings):
        if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
            raise _fail(f"{path}.code[{index}]", "a Coding needs a code")
        system = coding.get("system")
        if system == LOINC:
            out.setdefault("loinc", coding["code"])
        elif isinstance(system, str) and system.startswith(prefix):
            out.setdefault(system[len(prefix) :], coding["code"])
    return out


def _ordinal(option: Mapping[str, Any], path: str) -> int | None:
    for url in (ORDINAL_VALUE, ORDINAL_VALUE_OLD):
        for ext in _extensions(option, url):
            value = ext.get("valueDecimal", ext.get("valueInteger"))
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(f"{path}.extension('{url}')", "needs a numeric valueDecimal")
            if value != int(value):
                raise _fail(
                    f"{path}.extension('{url}')",
                    f"score {value} is not a whole number (Runxin option values are integers)",
                )
            return int(value)
    return None


def _int_code(code: Any) -> int | None:
    if isinstance(code, str) and re.fullmatch(r"-?[0-9]+", code):
        return int(code)
    return None


def _choice(
    node: Mapping[str, Any], path: str, lang: str
) -> tuple[dict[str, Any], bool | None, bool]:
    """One choice item -> (item spec with inline options, scored?, reverse-keyed?)."""
    link_id = node.get("linkId")
    if not isinstance(link_id, str) or not link_id:
        raise _fail(f"{path}.linkId", "missing")
    if "answerOption" not in node:
        if "answerValueSet" in node:
            raise _fail(
                f"{path}.answerValueSet",
                "options given only as a value set cannot be read offline; inline them as "
                "answerOption",
            )
        raise _fail(f"{path}.answerOption", "a choice item needs its answer options")
    if not isinstance(node["answerOption"], list):
        raise _fail(f"{path}.answerOption", "not a list")
    options: list[dict[str, Any]] = []
    raw_ordinals: list[tuple[int, int | None]] = []
    for index, option in enumerate(node["answerOption"]):
        opath = f"{path}.answerOption[{index}]"
        if not isinstance(option, dict):
            raise _fail(opath, "not an object")
        ordinal = _ordinal(option, opath)
        if "valueCoding" in option:
            coding = option["valueCoding"]
            if not isinstance(coding, dict):
                raise _fail(f"{opath}.valueCoding", "not a Coding")
            code = _int_code(coding.get("code"))
            ours = str(coding.get("system", "")).startswith(f"{CANONICAL_BASE}/CodeSystem/")
            value = (
                code if ours and code is not None else (ordinal if ordinal is not None else code)
            )
            if value is None:
                raise _fail(
                    f"{opath}.valueCoding",
                    "no numeric value: needs the ordinalValue extension or an integer code",
                )
            text = _texts(coding, "display", lang, f"{opath}.valueCoding")
        elif "valueInteger" in option:
            value = option["valueInteger"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(f"{opath}.valueInteger", "not an integer")
            text = {lang: str(value)}
        else:
            kind = next((k for k in option if k.startswith("value")), "value[x]")
            raise _fail(
                f"{opath}.{kind}", "cannot be mapped: Runxin options are codings or integers"
            )
        options.append({"value": value, "text": text})
        raw_ordinals.append((value, ordinal))
    if not options:
        raise _fail(f"{path}.answerOption", "a choice item needs at least one answer option")
    values = [v for v, _ in raw_ordinals]
    low, high = min(values), max(values)
    for ext in _extensions(node, EXT_VALUE_RANGE):
        try:
            low = int(ext["valueRange"]["low"]["value"])
            high = int(ext["valueRange"]["high"]["value"])
        except (KeyError, TypeError, ValueError):
            raise _fail(
                f"{path}.extension('{EXT_VALUE_RANGE}')", "needs valueRange.low/high.value"
            ) from None
    ordinals = [o for _, o in raw_ordinals]
    scored: bool | None = None if all(o is None for o in ordinals) else True
    reverse = scored is True and all(o == low + high - v for v, o in raw_ordinals)
    reverse = reverse and any(o != v for v, o in raw_ordinals)
    spec: dict[str, Any] = {
        "id": _as_id(link_id),
        "text": _texts(node, "text", lang, path),
        "options": {"min": low, "max": high, "options": options},
    }
    codes = _codes_of(node.get("code"), path)
    if codes:
        spec["codes"] = codes
    return spec, scored, reverse


def _as_id(raw: str) -> str:
    """A FHIR id or linkId as a Runxin id (lower-case letters, digits, ``_``, ``-``)."""
    return _INSTRUMENT_ID.sub("_", raw.lower()).strip("-_") or "item"


def _walk(items: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(items, list):
        raise _fail(path, "not a list")
    for index, node in enumerate(items):
        ipath = f"{path}[{index}]"
        if not isinstance(node, dict):
            raise _fail(ipath, "not an object")
        yield ipath, node
        if node.get("type") == "group" or "item" in node:
            yield from _walk(node.get("item", []), f"{ipath}.item")


def _draft_id(resource: Mapping[str, Any]) -> str:
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict) and ident.get("system") == IDENTIFIER_SYSTEM:
            value = ident.get("value")
            if isinstance(value, str) and value:
                return value
    raw = resource.get("id") or resource.get("name")
    if not isinstance(raw, str) or not raw:
        raise _fail("Questionnaire.id", "missing (and no Runxin identifier): cannot name the draft")
    return _as_id(raw)


def _resource_language(resource: Mapping[str, Any]) -> str:
    raw = resource.get("language", FALLBACK_LANGUAGE)
    if not isinstance(raw, str):
        raise _fail("Questionnaire.language", "not a code")
    try:
        return fhir_language(raw)
    except ValueError as exc:
        raise _fail("Questionnaire.language", str(exc)) from None


def _ages(resource: Mapping[str, Any], notes: list[str]) -> tuple[int, int]:
    for index, context in enumerate(resource.get("useContext", []) or []):
        code = (context or {}).get("code", {})
        if code.get("code") != "age" or "valueRange" not in context:
            continue
        rng = context["valueRange"]
        try:
            return int(rng["low"]["value"]), int(rng["high"]["value"])
        except (KeyError, TypeError, ValueError):
            raise _fail(
                f"Questionnaire.useContext[{index}].valueRange",
                "an age range needs low.value and high.value in years",
            ) from None
    notes.append(f"{DRAFT_NOTE} no age range in the Questionnaire: set min_age and max_age.")
    return 0, 120


def from_questionnaire(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A FHIR R4 ``Questionnaire`` as an instrument definition DRAFT (definition-file JSON).

    Items of type ``choice`` become items (in document order, groups flattened); the first
    ``display`` item becomes the instructions; read-only items (Runxin's score items) are left
    out. Option values are the Runxin codes (or the ``ordinalValue`` scores of a foreign
    resource); an item whose options carry scores is scored, and reverse-keyed when every score
    is ``min + max - value``. The scoring rules do not travel in FHIR: the draft's version ends
    in ``-draft`` and its ``notes`` say what to add (see :func:`definition_problems`).

    Raises
    ------
    ValueError
        Something that cannot be mapped; the message starts with its FHIR path, e.g.
        ``Questionnaire.item[3].answerOption[1].valueString: cannot be mapped ...``.
    """
    if not isinstance(resource, Mapping):
        raise _fail("Questionnaire", "not a JSON object")
    kind = resource.get("resourceType")
    if kind != "Questionnaire":
        raise _fail("Questionnaire.resourceType", f"expected 'Questionnaire', got {kind!r}")
    notes: list[str] = []
    lang = _resource_language(resource)
    instrument_id = _draft_id(resource)
    version = resource.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9]+\.[0-9]+(\.[0-9]+)?", version):
        notes.append(
            f"{DRAFT_NOTE} the Questionnaire's version {version!r} is not a Runxin version; "
            "1.0 was used."
        )
        version = "1.0"
    if isinstance(resource.get("title"), str) and resource["title"].strip():
        title = _texts(resource, "title", lang, "Questionnaire")
    else:
        title = {lang: str(resource.get("name") or instrument_id)}
        notes.append(f"{DRAFT_NOTE} the Questionnaire has no title: {title[lang]!r} was used.")
    instructions: dict[str, str] | None = None
    items: list[dict[str, Any]] = []
    scored: list[str] = []
    reverse: list[str] = []
    unscored_marked = False
    total_code: str | None = None
    for path, node in _walk(resource.get("item", []), "Questionnaire.item"):
        kind = node.get("type")
        if node.get("readOnly") is True:
            if str(node.get("linkId", "")) == f"{SCORE_LINK_PREFIX}total":
                total_code = _codes_of(node.get("code"), path).get("loinc")
            continue
        if kind == "group":
            continue
        if kind == "display":
            if instructions is None:
                instructions = _texts(node, "text", lang, path)
            continue
        if kind != "choice":
            raise _fail(
                f"{path}.type",
                f"{kind!r} cannot be mapped: Runxin items are choices with numeric values",
            )
        spec, item_scored, item_reverse = _choice(node, path, lang)
        if spec["id"] != node["linkId"]:
            notes.append(f"{DRAFT_NOTE} linkId {node['linkId']!r} became item id {spec['id']!r}.")
        if any(other["id"] == spec["id"] for other in items):
            raise _fail(f"{path}.linkId", f"item id {spec['id']!r} is given twice")
        items.append(spec)
        if item_scored is None:
            unscored_marked = True
        else:
            scored.append(spec["id"])
        if item_reverse:
            reverse.append(spec["id"])
        for ext in _extensions(node, EXT_CRITICAL):
            notes.append(
                f"{DRAFT_NOTE} item {spec['id']!r} was marked critical ({ext.get('valueCode')}) "
                "in the FHIR source: write its flag rules (scoring.flags) before use."
            )
    if not items:
        raise _fail("Questionnaire.item", "no choice items: nothing to import")
    if instructions is None:
        instructions = dict(title)
        notes.append(f"{DRAFT_NOTE} no display item: the title stands in for the instructions.")
    if not scored and unscored_marked:
        # No option carries a score: a foreign resource without ordinalValue.
        scored = [spec["id"] for spec in items]
        notes.append(
            f"{DRAFT_NOTE} no option carried a score (ordinalValue): every item is scored "
            "with its option values; check."
        )
    codes = _codes_of(resource.get("code"), "Questionnaire")
    if total_code is not None:
        codes["loinc_total"] = total_code
    languages = _languages(resource, title, notes)
    licence = resource.get("copyright")
    if not isinstance(licence, str) or not licence.strip():
        notes.append(f"{DRAFT_NOTE} the Questionnaire has no copyright: state the licence.")
        licence = "DRAFT: no licence given in the FHIR Questionnaire."
    citation = resource.get("description")
    if not isinstance(citation, str) or not citation.strip():
        notes.append(f"{DRAFT_NOTE} the Questionnaire has no description: cite the instrument.")
        citation = "DRAFT: no citation given in the FHIR Questionnaire."
    min_age, max_age = _ages(resource, notes)
    respondent, respondent_source = "self", ""
    for ext in _extensions(resource, EXT_RESPONDENT):
        parts = _parts(ext)
        respondent = parts.get("respondent") or "self"
        respondent_source = parts.get("source") or ""
    notes.append(
        f"{DRAFT_NOTE} imported from FHIR Questionnaire "
        f"{resource.get('url') or resource.get('id')!s}: FHIR does not carry the scoring rules "
        "(scales and their missing-data rules, ranges, bands, cut-offs, norms, classification, "
        "positive, flag and validity rules, coding scheme). Add them to 'scoring', remove these "
        "notes and the '-draft' version suffix, then run `runxin instruments check`."
    )
    draft: dict[str, Any] = {
        "format": 1,
        "id": instrument_id,
        "version": f"{version}{DRAFT_SUFFIX}",
        "title": title,
        "instructions": instructions,
        "languages": languages,
        "licence": licence.strip(),
        "citation": citation.strip(),
        "min_age": min_age,
        "max_age": max_age,
        "respondent": respondent,
    }
    if respondent_source:
        draft["respondent_source"] = respondent_source
    if codes:
        draft["codes"] = codes
    draft["option_sets"], draft["items"] = _option_sets(items)
    draft["scoring"] = {"scored_items": scored, "reverse_items": reverse}
    draft["notes"] = notes
    return draft


def _languages(
    resource: Mapping[str, Any], title: Mapping[str, str], notes: list[str]
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for index, ext in enumerate(_extensions(resource, EXT_LANGUAGE)):
        parts = _parts(ext)
        try:
            code = fhir_language(str(parts.get("language")))
        except ValueError as exc:
            raise _fail(f"Questionnaire.extension[{index}]", str(exc)) from None
        info = {"status": parts.get("status") or "unvalidated", "source": parts.get("source") or ""}
        if parts.get("note"):
            info["note"] = parts["note"]
        out[code] = info
    for code in title:
        if code not in out:
            out[code] = {
                "status": "unvalidated",
                "source": f"DRAFT: the source of the {code} text was not given in FHIR.",
            }
            notes.append(f"{DRAFT_NOTE} cite the source of the {code} text (languages.{code}).")
    return out


def _option_sets(
    items: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Name each distinct inline option set (``scale_1``, ...) and refer to it by name."""
    sets: dict[str, Any] = {}
    by_key: dict[str, str] = {}
    out = []
    for spec in items:
        key = json.dumps(spec["options"], sort_keys=True, ensure_ascii=False)
        name = by_key.get(key)
        if name is None:
            name = f"scale_{len(by_key) + 1}"
            by_key[key] = name
            sets[name] = spec["options"]
        out.append({**spec, "options": name})
    return sets, out


# --------------------------------------------------------------------------- check


def definition_problems(data: bytes | str, source: str) -> list[str]:
    """Every problem of a definition document, each naming its JSON path.

    A draft made by :func:`from_questionnaire` reports its ``-draft`` version and each of its
    ``DRAFT:`` notes; the rest of the document is then checked by the same loader as the
    catalogue and ``runxin instruments add`` (which stops at its first problem).
    """
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"{source}: $: not valid JSON: {exc}"]
    problems: list[str] = []
    if isinstance(document, dict):
        version = document.get("version")
        if isinstance(version, str) and version.endswith(DRAFT_SUFFIX):
            problems.append(
                f"{source}: $.version: {version!r} marks a draft imported from FHIR; finish "
                f"the definition, then drop {DRAFT_SUFFIX!r}"
            )
            document = {**document, "version": version[: -len(DRAFT_SUFFIX)]}
        notes = document.get("notes")
        if isinstance(notes, list):
            problems += [
                f"{source}: $.notes[{index}]: {note}"
                for index, note in enumerate(notes)
                if isinstance(note, str) and note.startswith(DRAFT_NOTE)
            ]
    try:
        parse_definition(data if not problems else msgspec.json.encode(document), source)
    except DefinitionError as exc:
        problems.append(str(exc))
    return problems
