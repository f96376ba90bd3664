"""Semantic checks of a decoded definition file, and the build of the frozen Instrument.

msgspec has already checked the shape (types, unknown fields). This module checks what a type
cannot say: unique ids, option values inside the declared range, a text for every declared
language, scoring specs that name existing items, and bands that cover a scale's range without
gap or overlap. Every failure raises :class:`DefinitionError` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction

from ._errors import DefinitionError
from ._model import FALLBACK_LANGUAGE, LANGUAGES, Instrument, Item
from ._schema import DefinitionFile, OptionSetSpec
from ._spec import (
    AllOf,
    AnswerIs,
    AnyOf,
    BandIs,
    Classification,
    CompleteRule,
    Condition,
    CountIn,
    Cutoff,
    Norms,
    Not,
    Scale,
    ScoreIn,
    ScoringSpec,
    Unanswered,
    ZeroFillRule,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")
_MAX_DECIMALS = 4
_MAX_BANDS = 100  # band indexes are stored as int8 by the batch scorer


def build_instrument(raw: DefinitionFile, source: str) -> Instrument:
    """Check ``raw`` semantically and return the frozen :class:`Instrument`.

    Raises
    ------
    DefinitionError
        On the first problem found, naming ``source`` and the JSON path of the field.
    """
    return _Checker(source).build(raw)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.languages: tuple[str, ...] = ()
        self.items: dict[str, Item] = {}
        self.scales: set[str] = set()
        self.bands: set[str] = set()

    def fail(self, field: str, detail: str) -> DefinitionError:
        return DefinitionError(self.source, field, detail)

    # ------------------------------------------------------------------ document

    def build(self, raw: DefinitionFile) -> Instrument:
        self.pattern("$.id", raw.id, _ID, "an id of lower-case letters, digits, '_' or '-'")
        self.pattern("$.version", raw.version, _VERSION, "a version such as '1.0' or '1.0.0'")
        self.check_languages(raw)
        self.texts("$.title", raw.title)
        self.texts("$.instructions", raw.instructions)
        self.nonempty("$.licence", raw.licence)
        self.nonempty("$.citation", raw.citation)
        if raw.min_age < 0:
            raise self.fail("$.min_age", f"must be >= 0, got {raw.min_age}")
        if raw.max_age < raw.min_age:
            raise self.fail("$.max_age", f"{raw.max_age} is below min_age {raw.min_age}")
        if raw.respondent != "self" and not raw.respondent_source.strip():
            raise self.fail(
                "$.respondent_source",
                f"a {raw.respondent}-report form must cite where its respondent comes from",
            )
        for name, option_set in raw.option_sets.items():
            self.option_set(f"$.option_sets.{name}", option_set)
        items = self.build_items(raw)
        self.items = {item.id: item for item in items}
        self.check_scoring(raw.scoring)
        return Instrument(
            id=raw.id,
            version=raw.version,
            title=dict(raw.title),
            instructions=dict(raw.instructions),
            languages=dict(raw.languages),
            licence=raw.licence,
            citation=raw.citation,
            min_age=raw.min_age,
            max_age=raw.max_age,
            items=items,
            scoring=raw.scoring,
            age_source=raw.age_source,
            respondent=raw.respondent,
            respondent_source=raw.respondent_source,
            codes=dict(raw.codes),
            notes=raw.notes,
        )

    def check_languages(self, raw: DefinitionFile) -> None:
        for code, info in raw.languages.items():
            if code not in LANGUAGES:
                allowed = ", ".join(repr(c) for c in LANGUAGES)
                raise self.fail("$.languages", f"unknown language {code!r}; allowed: {allowed}")
            self.nonempty(f"$.languages.{code}.source", info.source)
        if FALLBACK_LANGUAGE not in raw.languages:
            raise self.fail("$.languages", f"must declare {FALLBACK_LANGUAGE!r} (the fallback)")
        self.languages = tuple(raw.languages)

    def build_items(self, raw: DefinitionFile) -> tuple[Item, ...]:
        if not raw.items:
            raise self.fail("$.items", "an instrument needs at least one item")
        seen: set[str] = set()
        used_sets: set[str] = set()
        items: list[Item] = []
        for index, spec in enumerate(raw.items):
            path = f"$.items[{index}]"
            self.pattern(f"{path}.id", spec.id, _ID, "an item id of lower-case letters/digits")
            if spec.id in seen:
                raise self.fail(f"{path}.id", f"duplicate item id {spec.id!r}")
            seen.add(spec.id)
            self.texts(f"{path}.text", spec.text)
            if isinstance(spec.options, str):
                option_set = raw.option_sets.get(spec.options)
                if option_set is None:
                    known = ", ".join(sorted(raw.option_sets)) or "none"
                    raise self.fail(
                        f"{path}.options",
                        f"unknown option set {spec.options!r}; defined: {known}",
                    )
                used_sets.add(spec.options)
            else:
                option_set = spec.options
                self.option_set(f"{path}.options", option_set)
            items.append(
                Item(
                    id=spec.id,
                    text=dict(spec.text),
                    options=option_set.options,
                    min_value=option_set.min,
                    max_value=option_set.max,
                    codes=dict(spec.codes),
                )
            )
        for name in raw.option_sets:
            if name not in used_sets:
                raise self.fail(f"$.option_sets.{name}", "option set is not used by any item")
        return tuple(items)

    def option_set(self, path: str, option_set: OptionSetSpec) -> None:
        if option_set.min > option_set.max:
            raise self.fail(f"{path}.max", f"max {option_set.max} is below min {option_set.min}")
        if not option_set.options:
            raise self.fail(f"{path}.options", "an option set needs at least one option")
        seen: set[int] = set()
        for index, option in enumerate(option_set.options):
            opath = f"{path}.options[{index}]"
            if not option_set.min <= option.value <= option_set.max:
                raise self.fail(
                    f"{opath}.value",
                    f"option value {option.value} outside the declared range "
                    f"{option_set.min}..{option_set.max}",
                )
            if option.value in seen:
                raise self.fail(f"{opath}.value", f"duplicate option value {option.value}")
            seen.add(option.value)
            self.texts(f"{opath}.text", option.text)

    # ------------------------------------------------------------------ scalars

    def nonempty(self, path: str, value: str) -> None:
        if not value.strip():
            raise self.fail(path, "must not be empty")

    def pattern(self, path: str, value: str, regex: re.Pattern[str], what: str) -> None:
        if not regex.fullmatch(value):
            raise self.fail(path, f"{value!r} is not {what}")

    def texts(self, path: str, texts: Mapping[str, str]) -> None:
        for language in self.languages:
            if language not in texts:
                raise self.fail(path, f"missing text for declared language {language!r}")
        for language, text in texts.items():
            if language not in self.languages:
                raise self.fail(
                    path, f"text in language {language!r}, which $.languages does not declare"
                )
            if not text.strip() or text != text.strip():
                raise self.fail(
                    path, f"text for {language!r} is empty or has surrounding whitespace"
                )

    # ------------------------------------------------------------------ scoring

    def item_ref(self, path: str, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise self.fail(path, f"unknown item {item_id!r}")
        return item

    def item_list(self, path: str, ids: Sequence[str], *, allow_empty: bool = False) -> None:
        if not ids and not allow_empty:
            raise self.fail(path, "must name at least one item")
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            self.item_ref(f"{path}[{index}]", item_id)
            if item_id in seen:
                raise self.fail(f"{path}[{index}]", f"item {item_id!r} listed twice")
            seen.add(item_id)

    def check_scoring(self, spec: ScoringSpec) -> None:
        base = "$.scoring"
        self.item_list(f"{base}.scored_items", spec.scored_items)
        scored = set(spec.scored_items)
        self.item_list(f"{base}.reverse_items", spec.reverse_items, allow_empty=True)
        for index, item_id in enumerate(spec.reverse_items):
            if item_id not in scored:
                raise self.fail(
                    f"{base}.reverse_items[{index}]", f"item {item_id!r} is not a scored item"
                )
        scales: list[tuple[str, Scale]] = []
        if spec.total is not None:
            scales.append((f"{base}.total", spec.total))
        scales.extend((f"{base}.subscales[{i}]", s) for i, s in enumerate(spec.subscales))
        by_id: dict[str, Scale] = {}
        for path, scale in scales:
            self.pattern(f"{path}.id", scale.id, _CODE, "a snake_case scale id")
            if scale.id in by_id:
                raise self.fail(f"{path}.id", f"duplicate scale id {scale.id!r}")
            by_id[scale.id] = scale
        self.scales = set(by_id)
        for path, scale in scales:
            self.check_scale(path, scale, scored, by_id, len(spec.scored_items))
        if spec.total is not None:
            total = spec.total
            bands = total.norms.bands if total.norms is not None else total.bands
            self.bands = {band.code for band in bands}
        if spec.classification is not None:
            path = f"{base}.classification"
            if self.bands:
                raise self.fail(path, "declare bands on the total or as a classification, not both")
            self.check_classification(path, spec.classification)
        if spec.positive is not None:
            self.nonempty(f"{base}.positive.source", spec.positive.source)
            self.condition(f"{base}.positive.when", spec.positive.when, allow_band=True)
        for index, flag in enumerate(spec.flags):
            path = f"{base}.flags[{index}]"
            self.pattern(f"{path}.code", flag.code, _CODE, "a snake_case flag code")
            self.nonempty(f"{path}.source", flag.source)
            if flag.item is not None:
                self.item_ref(f"{path}.item", flag.item)
            self.condition(f"{path}.when", flag.when, allow_band=True)
        for index, rule in enumerate(spec.validity):
            path = f"{base}.validity[{index}]"
            self.pattern(f"{path}.code", rule.code, _CODE, "a snake_case rule code")
            self.nonempty(f"{path}.source", rule.source)
            self.condition(f"{path}.when", rule.when, allow_band=False)
        if spec.coding is not None:
            path = f"{base}.coding"
            self.pattern(f"{path}.id", spec.coding.id, _CODE, "a snake_case coding scheme id")
            self.nonempty(f"{path}.source", spec.coding.source)

    def check_classification(self, path: str, classification: Classification) -> None:
        self.nonempty(f"{path}.source", classification.source)
        if not classification.bands:
            raise self.fail(f"{path}.bands", "a classification needs at least one band")
        self.check_band_count(f"{path}.bands", len(classification.bands))
        codes: set[str] = set()
        for index, band in enumerate(classification.bands):
            self.pattern(f"{path}.bands[{index}].code", band.code, _CODE, "a snake_case code")
            if band.code in codes:
                raise self.fail(f"{path}.bands[{index}].code", f"duplicate band {band.code!r}")
            codes.add(band.code)
        if classification.default not in codes:
            raise self.fail(f"{path}.default", f"unknown band {classification.default!r}")
        for index, rule in enumerate(classification.rules):
            rpath = f"{path}.rules[{index}]"
            if rule.band not in codes:
                raise self.fail(f"{rpath}.band", f"unknown band {rule.band!r}")
            self.nonempty(f"{rpath}.source", rule.source)
            self.condition(f"{rpath}.when", rule.when, allow_band=False)
        self.bands = codes

    def check_scale(
        self,
        path: str,
        scale: Scale,
        scored: set[str],
        by_id: Mapping[str, Scale],
        n_scored: int,
    ) -> None:
        if not 0 <= scale.decimals <= _MAX_DECIMALS:
            raise self.fail(f"{path}.decimals", f"must be 0..{_MAX_DECIMALS}")
        if scale.scales:
            expected = self.check_composite(path, scale, by_id)
        else:
            expected = self.check_item_scale(path, scale, scored, n_scored)
        declared = (_exact(scale.range[0]), _exact(scale.range[1]))
        if declared != expected:
            what = "parts" if scale.scales else "items"
            raise self.fail(
                f"{path}.range",
                f"declared {_show(declared[0])}..{_show(declared[1])} but the {what} give "
                f"{_show(expected[0])}..{_show(expected[1])} ({scale.method})",
            )
        if scale.norms is not None:
            if scale.bands or scale.cutoff is not None:
                raise self.fail(
                    path, "a scale with norms declares its bands and cut-off under norms"
                )
            self.check_norms(f"{path}.norms", scale.norms)
            return
        self.check_bands(path, scale)
        if scale.cutoff is not None:
            self.check_cutoff(f"{path}.cutoff", scale.cutoff, scale.decimals, declared)

    def check_item_scale(
        self, path: str, scale: Scale, scored: set[str], n_scored: int
    ) -> tuple[Fraction, Fraction]:
        self.item_list(f"{path}.items", scale.items)
        for index, item_id in enumerate(scale.items):
            if item_id not in scored:
                raise self.fail(f"{path}.items[{index}]", f"item {item_id!r} is not a scored item")
        missing = scale.missing
        if missing is None:
            raise self.fail(f"{path}.missing", "an item scale needs a missing-data rule")
        self.nonempty(f"{path}.missing.source", missing.source)
        max_missing = 0 if isinstance(missing, CompleteRule) else missing.max_missing
        limit = len(scale.items)
        if isinstance(missing, ZeroFillRule) and missing.blanks_in == "form":
            limit = n_scored
        if not 0 <= max_missing < limit:
            counted = "scored items on the form" if limit != len(scale.items) else "items"
            raise self.fail(
                f"{path}.missing.max_missing",
                f"must be 0..{limit - 1} with {limit} {counted}",
            )
        # The declared range must be the range the items allow.
        lows = sum(self.items[i].min_value for i in scale.items)
        highs = sum(self.items[i].max_value for i in scale.items)
        count = len(scale.items) if scale.method == "mean" else 1
        return Fraction(lows, count), Fraction(highs, count)

    def check_composite(
        self, path: str, scale: Scale, by_id: Mapping[str, Scale]
    ) -> tuple[Fraction, Fraction]:
        if scale.items:
            raise self.fail(f"{path}.items", "a scale sums either items or scales, not both")
        if scale.missing is not None:
            raise self.fail(
                f"{path}.missing",
                "a composite scale takes its missing-data status from its parts; remove it",
            )
        if scale.method != "sum":
            raise self.fail(f"{path}.method", "a composite scale is the sum of its parts")
        low, high = Fraction(0), Fraction(0)
        seen: set[str] = set()
        for index, part_id in enumerate(scale.scales):
            ppath = f"{path}.scales[{index}]"
            part = by_id.get(part_id)
            if part is None:
                raise self.fail(ppath, f"unknown scale {part_id!r}")
            if part.scales:
                raise self.fail(ppath, f"scale {part_id!r} is itself a composite")
            if part_id in seen:
                raise self.fail(ppath, f"scale {part_id!r} listed twice")
            seen.add(part_id)
            low += _exact(part.range[0])
            high += _exact(part.range[1])
        return low, high

    def check_cutoff(
        self,
        path: str,
        cutoff: Cutoff,
        decimals: int,
        declared: tuple[Fraction, Fraction] | None,
    ) -> None:
        self.nonempty(f"{path}.source", cutoff.source)
        if cutoff.min is None and cutoff.max is None:
            raise self.fail(path, "a cut-off needs min, max or both")
        for name, bound in (("min", cutoff.min), ("max", cutoff.max)):
            if bound is not None:
                self.on_grid(f"{path}.{name}", bound, decimals)
                if declared is not None and not declared[0] <= _exact(bound) <= declared[1]:
                    raise self.fail(f"{path}.{name}", f"{bound} is outside the scale range")

    def check_norms(self, path: str, norms: Norms) -> None:
        self.nonempty(f"{path}.source", norms.source)
        if not 0 <= norms.decimals <= _MAX_DECIMALS:
            raise self.fail(f"{path}.decimals", f"must be 0..{_MAX_DECIMALS}")
        if not norms.groups:
            raise self.fail(f"{path}.groups", "norms need at least one group")
        taken: dict[str, list[tuple[int, int, int]]] = {"male": [], "female": []}
        for index, group in enumerate(norms.groups):
            gpath = f"{path}.groups[{index}]"
            low, high = group.grades
            if low < 0 or high < low:
                raise self.fail(f"{gpath}.grades", f"bad grade range {low}..{high}")
            self.on_grid(f"{gpath}.mean", group.mean, _MAX_DECIMALS)
            self.on_grid(f"{gpath}.sd", group.sd, _MAX_DECIMALS)
            if _exact(group.sd) <= 0:
                raise self.fail(f"{gpath}.sd", f"must be positive, got {group.sd}")
            for other_low, other_high, other in taken[group.gender]:
                if low <= other_high and other_low <= high:
                    raise self.fail(
                        f"{gpath}.grades",
                        f"grades {low}..{high} ({group.gender}) overlap groups[{other}]",
                    )
            taken[group.gender].append((low, high, index))
        self.check_norm_bands(path, norms)
        if norms.cutoff is not None:
            self.check_cutoff(f"{path}.cutoff", norms.cutoff, norms.decimals, None)

    def check_norm_bands(self, path: str, norms: Norms) -> None:
        bands = norms.bands
        if not bands:
            return
        self.check_band_count(f"{path}.bands", len(bands))
        d = norms.decimals
        codes: set[str] = set()
        bounds: list[tuple[int | None, int | None]] = []
        for index, band in enumerate(bands):
            bpath = f"{path}.bands[{index}]"
            self.pattern(f"{bpath}.code", band.code, _CODE, "a snake_case band code")
            if band.code in codes:
                raise self.fail(f"{bpath}.code", f"duplicate band code {band.code!r}")
            codes.add(band.code)
            self.nonempty(f"{bpath}.source", band.source)
            low = None if band.min is None else self.on_grid(f"{bpath}.min", band.min, d)
            high = None if band.max is None else self.on_grid(f"{bpath}.max", band.max, d)
            if low is not None and high is not None and low > high:
                raise self.fail(f"{bpath}.max", f"max {band.max} is below min {band.min}")
            bounds.append((low, high))
        ascending = bounds[0][0] is None
        ordered = bounds if ascending else bounds[::-1]
        first, last = ordered[0], ordered[-1]
        if first[0] is not None or last[1] is not None:
            raise self.fail(
                f"{path}.bands",
                "T-score bands must cover every score: the lowest band has no min and the "
                "highest no max (least to most severe, ascending or descending)",
            )
        for index in range(1, len(ordered)):
            prev, cur = ordered[index - 1], ordered[index]
            if prev[1] is None or cur[0] is None:
                raise self.fail(f"{path}.bands", "only the outermost bounds may be open")
            gap = cur[0] - prev[1]
            if gap != 1:
                what = "gap between" if gap > 1 else "overlap (or wrong order) of"
                at = _show(Fraction(cur[0], 10**d))
                raise self.fail(f"{path}.bands", f"{what} T-score bands at {at}")

    def on_grid(self, path: str, value: float, decimals: int) -> int:
        scaled = _exact(value) * 10**decimals
        if scaled.denominator != 1:
            step = _show(Fraction(1, 10**decimals))
            raise self.fail(path, f"{value} is not a multiple of the resolution {step}")
        return int(scaled)

    def check_band_count(self, path: str, count: int) -> None:
        if count > _MAX_BANDS:
            raise self.fail(path, f"at most {_MAX_BANDS} bands, got {count}")

    def check_bands(self, path: str, scale: Scale) -> None:
        bands = scale.bands
        if not bands:
            return
        self.check_band_count(f"{path}.bands", len(bands))
        d = scale.decimals
        lo = self.on_grid(f"{path}.range[0]", scale.range[0], d)
        hi = self.on_grid(f"{path}.range[1]", scale.range[1], d)
        bounds: list[tuple[int, int]] = []
        codes: set[str] = set()
        for index, band in enumerate(bands):
            bpath = f"{path}.bands[{index}]"
            self.pattern(f"{bpath}.code", band.code, _CODE, "a snake_case band code")
            if band.code in codes:
                raise self.fail(f"{bpath}.code", f"duplicate band code {band.code!r}")
            codes.add(band.code)
            self.nonempty(f"{bpath}.source", band.source)
            low = self.on_grid(f"{bpath}.min", band.min, d)
            high = self.on_grid(f"{bpath}.max", band.max, d)
            if low > high:
                raise self.fail(f"{bpath}.max", f"max {band.max} is below min {band.min}")
            bounds.append((low, high))
        ascending = len(bounds) < 2 or bounds[1][0] >= bounds[0][0]
        for index in range(1, len(bounds)):
            prev, cur = bounds[index - 1], bounds[index]
            prev_code, code = bands[index - 1].code, bands[index].code
            if ascending:
                field, gap = f"{path}.bands[{index}].min", cur[0] - prev[1]
            else:
                field, gap = f"{path}.bands[{index}].max", prev[0] - cur[1]
            if gap > 1:
                raise self.fail(field, f"gap between bands {prev_code!r} and {code!r}")
            if gap < 1:
                raise self.fail(
                    field, f"bands {prev_code!r} and {code!r} overlap (or are out of order)"
                )
        low_end = min(b[0] for b in bounds)
        high_end = max(b[1] for b in bounds)
        if low_end != lo or high_end != hi:
            unit = 10**d
            covered = f"{_show(Fraction(low_end, unit))}..{_show(Fraction(high_end, unit))}"
            declared = f"{_show(Fraction(lo, unit))}..{_show(Fraction(hi, unit))}"
            raise self.fail(
                f"{path}.bands", f"bands cover {covered} but the scale range is {declared}"
            )

    def condition(self, path: str, cond: Condition, *, allow_band: bool) -> None:
        if isinstance(cond, AnswerIs):
            item = self.item_ref(f"{path}.item", cond.item)
            if not cond.values:
                raise self.fail(f"{path}.values", "must list at least one value")
            for index, value in enumerate(cond.values):
                if value not in item.values:
                    raise self.fail(
                        f"{path}.values[{index}]",
                        f"{value} is not an option value of item {item.id!r} {item.values}",
                    )
        elif isinstance(cond, Unanswered):
            self.item_ref(f"{path}.item", cond.item)
        elif isinstance(cond, AnyOf | AllOf):
            if not cond.of:
                raise self.fail(f"{path}.of", "must list at least one condition")
            for index, sub in enumerate(cond.of):
                self.condition(f"{path}.of[{index}]", sub, allow_band=allow_band)
        elif isinstance(cond, Not):
            self.condition(f"{path}.of", cond.of, allow_band=allow_band)
        elif isinstance(cond, ScoreIn):
            if cond.scale not in self.scales:
                raise self.fail(f"{path}.scale", f"unknown scale {cond.scale!r}")
            if cond.min is None and cond.max is None:
                raise self.fail(path, "a score condition needs min, max or both")
        elif isinstance(cond, CountIn):
            self.item_list(f"{path}.items", cond.items)
            if not cond.values:
                raise self.fail(f"{path}.values", "must list at least one value")
            if cond.min < 0 or (cond.max is not None and cond.max < cond.min):
                raise self.fail(path, f"bad count range {cond.min}..{cond.max}")
        elif isinstance(cond, BandIs):
            if not allow_band:
                raise self.fail(path, "a band condition cannot be used to decide the band")
            for index, band in enumerate(cond.bands):
                if band not in self.bands:
                    raise self.fail(f"{path}.bands[{index}]", f"unknown band {band!r}")


def _exact(value: float) -> Fraction:
    """The decimal the JSON file wrote (``0.1`` is one tenth, not the nearest binary float)."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))
