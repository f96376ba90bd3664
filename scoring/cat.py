"""Computerised adaptive testing (CAT) over a calibrated item bank.

Pure domain code (numpy only; no web, no database, no clock). The engine is a small set of
functions over a frozen, serialisable :class:`CatState`, so a student's session can be stored
after every answer and resumed anywhere::

    bank = load_bank(path)                          # IRT parameters + critical items + flags
    state = start(bank, CatConfig(target_sd=0.3, max_items=20), seed=seed)
    while (item := next_item(bank, state)) is not None:
        state = record_answer(bank, state, item, value_from_student)
    result = finish(bank, state)                    # theta, posterior SD, answers, flags

Algorithm
---------
* **Critical items first.** Every item of the bank marked ``critical`` (suicide and self-harm
  questions) is asked, in bank order, *before* any adaptive item, whatever the current
  :math:`\\theta`. Asking them first (rather than "within the first few") means that a
  session abandoned after any number of answers has still put them to the student, that no
  selection or stopping rule can postpone or skip them, and that the order is the same for
  every student (auditable). They count towards the test length and, being calibrated, also
  update :math:`\\theta`. Their answers are triaged exactly as in a fixed form: the flags are
  computed by the very same rules (an instrument's :class:`instruments.FlagRule`, evaluated
  by :func:`scoring.score`, or the bank's own rules evaluated by the same condition
  evaluator), so a critical answer becomes a :class:`scoring.Flag` that reaches
  ``triage.evaluate`` and is covered by ``triage.check_safety_floor``.
* **Selection:** maximum Fisher information at the current EAP estimate
  :math:`\\hat\\theta`, :math:`j^* = \\arg\\max_{j \\notin A} I_j(\\hat\\theta)`, with the
  *randomesque* exposure control of Kingsbury and Zara (1989): the next item is drawn
  uniformly among the ``top_k`` most informative unasked items (``top_k = 1`` is pure
  maximum information). Cost per selection: :math:`O(J \\cdot K)`.
* **Update:** expected a posteriori (EAP) on a fixed grid :math:`\\theta_1..\\theta_Q`
  (``grid_points`` equally spaced on ``prior_mean ± grid_bound * prior_sd``, the grid of
  :func:`scoring.irt.eap`) with a normal prior (Bock and Mislevy 1982). The state keeps
  the log posterior on the grid; an answer in category :math:`k` of item :math:`j` adds
  :math:`\\log P_{jk}(\\theta_q)` (precomputed per bank), so an update costs
  :math:`O(Q)`:

  .. math:: \\hat\\theta = \\sum_q w_q \\theta_q, \\qquad
            \\mathrm{SD}(\\theta) = \\Big(\\sum_q w_q (\\theta_q - \\hat\\theta)^2\\Big)^{1/2},
            \\qquad w_q \\propto \\pi(\\theta_q) \\prod_{j \\in A} P_{j x_j}(\\theta_q).

* **Stopping:** never while a critical item is pending; otherwise when the bank is
  exhausted, when ``max_items`` items were asked, or when at least ``min_items`` were asked
  and the posterior SD is at or below ``target_sd``.
* **Determinism:** the randomesque draw uses the ``rng`` passed in, or else a Generator
  seeded with ``(state.seed, number of items asked)``, so a resumed session draws exactly
  as an uninterrupted one.

References
----------
Kingsbury, G. G., & Zara, A. R. (1989). Procedures for selecting items for computerized
adaptive tests. *Applied Measurement in Education*, 2(4), 359-375.
Bock, R. D., & Mislevy, R. J. (1982). Adaptive EAP estimation of ability in a microcomputer
environment. *Applied Psychological Measurement*, 6(4), 431-444.
Samejima, F. (1969). Estimation of latent ability using a response pattern of graded scores.
*Psychometrika Monograph Supplement*, 17.

The bank file format is documented in ``docs/psychometrics.md`` ("Adaptive screening") and
checked by :func:`parse_bank`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from instruments import (
    AllOf,
    AnswerIs,
    AnyOf,
    Condition,
    CountIn,
    FlagRule,
    Instrument,
    Not,
    Unanswered,
)
from scoring._conditions import Context, holds
from scoring._result import Flag, ScoreResult
from scoring._scalar import score
from scoring.irt import ItemParams, category_probabilities, eap, item_information

__all__ = [
    "BANK_FORMAT",
    "BankError",
    "BankFile",
    "BankInstrument",
    "BankItem",
    "CatConfig",
    "CatResult",
    "CatState",
    "ItemBank",
    "SimulationReport",
    "StopReason",
    "bank_answers",
    "bank_flags",
    "bank_from_params",
    "check_bank_instrument",
    "dump_bank",
    "finish",
    "flag_items",
    "item_information_at",
    "load_bank",
    "next_item",
    "parse_bank",
    "record_answer",
    "simulate",
    "simulate_responses",
    "start",
    "stop_reason",
]

#: The ``format`` tag of a bank file this version reads.
BANK_FORMAT = "runxin-cat-bank/1"

StopReason = Literal["target_sd", "max_items", "bank_exhausted"]

F64 = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- bank file


class BankItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One item of a bank file: slope-intercept IRT parameters and its answer coding.

    ``d`` holds the K-1 intercepts (decreasing), ``logit P(X >= k) = a*theta + d[k-1]``;
    ``values`` the raw option values of categories 0..K-1 (default ``0..K-1``); ``critical``
    marks a question that is always asked (suicide/self-harm); ``content`` an optional
    content area (reported, not used for selection).
    """

    name: str
    a: float
    d: tuple[float, ...]
    values: tuple[int, ...] | None = None
    critical: bool = False
    content: str | None = None


class BankInstrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The instrument definition whose items (texts, options, flags) the bank calibrates."""

    id: str
    version: str


class BankFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A bank file as written on disk (JSON); see :func:`parse_bank` for the checks."""

    format: str
    id: str
    version: str
    model: Literal["2pl", "grm"]
    source: str
    items: tuple[BankItem, ...]
    instrument: BankInstrument | None = None
    flags: tuple[FlagRule, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ItemBank:
    """A validated item bank ready for adaptive testing.

    Attributes
    ----------
    id, version, source : str
        Identity and provenance of the parameters (published or simulated).
    params : ItemParams
        The IRT parameters of the J items, in bank order.
    values : tuple of tuple of int
        Raw option values of categories ``0..K_j-1`` of each item.
    critical : tuple of int
        Indices of the critical items, in bank order (always asked first).
    content : tuple of (str or None)
        Content area per item.
    instrument : BankInstrument or None
        The instrument definition whose flags triage the answers; ``None`` for a bank that
        carries its own ``flags`` (or none).
    flags : tuple of FlagRule
        The bank's own critical-item rules (only when ``instrument`` is ``None``).
    notes : tuple of str
        Free text carried from the file.
    """

    id: str
    version: str
    source: str
    params: ItemParams
    values: tuple[tuple[int, ...], ...]
    critical: tuple[int, ...]
    content: tuple[str | None, ...]
    instrument: BankInstrument | None
    flags: tuple[FlagRule, ...]
    notes: tuple[str, ...]
    index: Mapping[str, int]
    _tables: dict[tuple[int, float, float, float], _Tables] = field(
        default_factory=dict, repr=False
    )

    @property
    def names(self) -> tuple[str, ...]:
        """The item names in bank order."""
        return self.params.names

    @property
    def size(self) -> int:
        """The number of items J."""
        return len(self.params.names)


class BankError(ValueError):
    """A bank file or bank parameters that cannot be used (the message says what)."""


def _condition_items(cond: Condition) -> Iterable[str]:
    if isinstance(cond, AnswerIs | Unanswered):
        yield cond.item
    elif isinstance(cond, AnyOf | AllOf):
        for sub in cond.of:
            yield from _condition_items(sub)
    elif isinstance(cond, Not):
        yield from _condition_items(cond.of)
    elif isinstance(cond, CountIn):
        yield from cond.items


def _answer_only(cond: Condition) -> bool:
    """Whether ``cond`` looks only at answers (a CAT has no fixed-form total or band)."""
    if isinstance(cond, AnswerIs | Unanswered | CountIn):
        return True
    if isinstance(cond, AnyOf | AllOf):
        return all(_answer_only(sub) for sub in cond.of)
    if isinstance(cond, Not):
        return _answer_only(cond.of)
    return False


def flag_items(rules: Iterable[FlagRule]) -> tuple[str, ...]:
    """Return every item a set of flag rules looks at (its ``item`` and its condition)."""
    seen: dict[str, None] = {}
    for rule in rules:
        if rule.item is not None:
            seen[rule.item] = None
        for item in _condition_items(rule.when):
            seen[item] = None
    return tuple(seen)


def bank_from_params(
    params: ItemParams,
    *,
    id: str = "bank",
    version: str = "1",
    source: str = "",
    critical: Sequence[str] = (),
    values: Sequence[Sequence[int]] | None = None,
    content: Sequence[str | None] | None = None,
    instrument: BankInstrument | None = None,
    flags: Sequence[FlagRule] = (),
    notes: Sequence[str] = (),
) -> ItemBank:
    """Build an :class:`ItemBank` from IRT parameters (the checks of :func:`parse_bank`).

    Parameters
    ----------
    params : ItemParams
        Slope-intercept parameters of the J items (``a > 0``, finite, intercepts strictly
        decreasing along the categories).
    id, version, source : str
        Identity and provenance.
    critical : sequence of str
        Names of the items that are always asked first.
    values : sequence of sequence of int, optional
        Raw option values of each item's categories (strictly increasing); default
        ``0..K_j-1``.
    content : sequence of (str or None), optional
        Content area per item.
    instrument : BankInstrument, optional
        The instrument whose flags triage the answers (then ``flags`` must be empty).
    flags : sequence of FlagRule
        The bank's own critical-item rules; every item they look at must be a critical item
        of the bank, and they may only look at answers.
    notes : sequence of str
        Free text.

    Returns
    -------
    ItemBank

    Raises
    ------
    BankError
        Naming the first problem found.
    """
    if not isinstance(params, ItemParams):
        raise BankError(f"params must be ItemParams, got {type(params).__name__}")
    names = tuple(params.names)
    j = len(names)
    if j == 0:
        raise BankError("the bank has no items")
    if len(set(names)) != j:
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BankError(f"duplicate item names: {', '.join(dupes)}")
    a = np.asarray(params.a, dtype=np.float64)
    d = np.asarray(params.d, dtype=np.float64)
    if a.shape != (j,) or d.ndim != 2 or d.shape[0] != j:
        raise BankError(f"params shapes a {a.shape} and d {d.shape} do not match {j} items")
    index = {name: i for i, name in enumerate(names)}
    cats: list[int] = []
    for i, name in enumerate(names):
        if not (math.isfinite(a[i]) and a[i] > 0):
            raise BankError(f"item {name!r}: slope a must be positive and finite, got {a[i]}")
        row = d[i]
        finite = row[~np.isnan(row)]
        if finite.size == 0 or np.isnan(row[: finite.size]).any():
            raise BankError(f"item {name!r}: intercepts must be finite, NaN only as padding")
        if not np.isfinite(finite).all() or (finite.size > 1 and np.any(np.diff(finite) >= 0)):
            raise BankError(f"item {name!r}: intercepts d must be finite and strictly decreasing")
        cats.append(finite.size + 1)
    if values is None:
        item_values = tuple(tuple(range(k)) for k in cats)
    else:
        if len(values) != j:
            raise BankError(f"values has {len(values)} rows for {j} items")
        item_values = tuple(tuple(int(v) for v in row) for row in values)
        for name, k, row in zip(names, cats, item_values, strict=True):
            if len(row) != k or any(b <= a_ for a_, b in itertools.pairwise(row)):
                raise BankError(
                    f"item {name!r}: values must be {k} strictly increasing option values "
                    f"(one per category), got {list(row)}"
                )
    crit: list[int] = []
    for name in critical:
        if name not in index:
            raise BankError(f"critical item {name!r} is not in the bank")
        if index[name] not in crit:
            crit.append(index[name])
    crit.sort()
    if instrument is not None and flags:
        raise BankError(
            "a bank bound to an instrument takes its flags from the instrument; "
            "do not also give bank flags"
        )
    crit_names = {names[i] for i in crit}
    for rule in flags:
        if not _answer_only(rule.when):
            raise BankError(
                f"flag {rule.code!r}: a bank flag may only look at answers "
                "(answer, unanswered, count, any, all, not)"
            )
        for item in flag_items((rule,)):
            if item not in crit_names:
                raise BankError(
                    f"flag {rule.code!r} looks at item {item!r}, which is not a critical item "
                    "of the bank (an item a flag reads must always be asked)"
                )
    if content is None:
        item_content: tuple[str | None, ...] = (None,) * j
    else:
        if len(content) != j:
            raise BankError(f"content has {len(content)} entries for {j} items")
        item_content = tuple(content)
    return ItemBank(
        id=id,
        version=version,
        source=source,
        params=params,
        values=item_values,
        critical=tuple(crit),
        content=item_content,
        instrument=instrument,
        flags=tuple(flags),
        notes=tuple(notes),
        index=index,
    )


def parse_bank(data: bytes | str) -> ItemBank:
    """Decode and check a bank file (JSON, format ``runxin-cat-bank/1``).

    Parameters
    ----------
    data : bytes or str
        The file's content.

    Returns
    -------
    ItemBank

    Raises
    ------
    BankError
        When the JSON does not match the format or the parameters are unusable.
    """
    try:
        raw = msgspec.json.decode(data, type=BankFile)
    except msgspec.DecodeError as exc:
        raise BankError(f"not a valid bank file: {exc}") from None
    if raw.format != BANK_FORMAT:
        raise BankError(f"format must be {BANK_FORMAT!r}, got {raw.format!r}")
    if not raw.items:
        raise BankError("the bank has no items")
    width = max(len(item.d) for item in raw.items)
    if raw.model == "2pl" and width != 1:
        raise BankError("a 2pl bank has exactly one intercept d per item")
    d = np.full((len(raw.items), width), np.nan)
    for i, item in enumerate(raw.items):
        if not item.d:
            raise BankError(f"item {item.name!r}: d must have at least one intercept")
        d[i, : len(item.d)] = item.d
    try:
        params = ItemParams(
            names=tuple(item.name for item in raw.items),
            a=np.array([item.a for item in raw.items], dtype=np.float64),
            d=d,
            model=raw.model,
        )
    except ValueError as exc:
        raise BankError(f"bad item parameters: {exc}") from None
    values = [
        item.values if item.values is not None else tuple(range(len(item.d) + 1))
        for item in raw.items
    ]
    return bank_from_params(
        params,
        id=raw.id,
        version=raw.version,
        source=raw.source,
        critical=[item.name for item in raw.items if item.critical],
        values=values,
        content=[item.content for item in raw.items],
        instrument=raw.instrument,
        flags=raw.flags,
        notes=raw.notes,
    )


def load_bank(path: str | Path) -> ItemBank:
    """Read and check a bank file; see :func:`parse_bank`.

    Raises
    ------
    BankError
        When the file cannot be read or is not a valid bank.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BankError(f"cannot read bank file {path}: {exc.strerror or exc}") from None
    return parse_bank(data)


def dump_bank(bank: ItemBank) -> bytes:
    """Write a bank in the file format (pretty JSON); ``parse_bank(dump_bank(b))`` is ``b``."""
    d = np.asarray(bank.params.d)
    items = []
    crit = set(bank.critical)
    for i, name in enumerate(bank.names):
        row = d[i][~np.isnan(d[i])]
        items.append(
            BankItem(
                name=name,
                a=float(bank.params.a[i]),
                d=tuple(float(x) for x in row),
                values=bank.values[i] if bank.values[i] != tuple(range(row.size + 1)) else None,
                critical=i in crit,
                content=bank.content[i],
            )
        )
    raw = BankFile(
        format=BANK_FORMAT,
        id=bank.id,
        version=bank.version,
        model=bank.params.model,
        source=bank.source,
        items=tuple(items),
        instrument=bank.instrument,
        flags=bank.flags,
        notes=bank.notes,
    )
    # One item (and one flag) per line: a 200-item bank stays readable and diffable.
    fields = msgspec.to_builtins(raw)
    lines = []
    for key, value in fields.items():
        if isinstance(value, list | tuple) and key in {"items", "flags"}:
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            lines.append(f'  "{key}": [\n{rows}\n  ]')
        else:
            lines.append(f'  "{key}": {json.dumps(value, ensure_ascii=False)}')
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode()


def check_bank_instrument(bank: ItemBank, instrument: Instrument) -> None:
    """Check that ``bank`` calibrates ``instrument`` and that its critical items are safe.

    Every bank item must be an item of the instrument with the same option values; every
    item the instrument's flag rules look at must be in the bank and marked critical (so it
    is always asked, and the flags fire exactly as on the fixed form).

    Raises
    ------
    BankError
        Naming the first problem.
    """
    if bank.instrument is None:
        raise BankError(f"bank {bank.id!r} is not bound to an instrument")
    if (bank.instrument.id, bank.instrument.version) != (instrument.id, instrument.version):
        raise BankError(
            f"bank {bank.id!r} calibrates {bank.instrument.id} {bank.instrument.version}, "
            f"not {instrument.id} {instrument.version}"
        )
    for i, name in enumerate(bank.names):
        try:
            item = instrument.item(name)
        except KeyError:
            raise BankError(f"bank item {name!r} is not an item of {instrument.id}") from None
        if tuple(item.values) != bank.values[i]:
            raise BankError(
                f"bank item {name!r}: values {list(bank.values[i])} differ from the "
                f"instrument's options {list(item.values)}"
            )
    crit = {bank.names[i] for i in bank.critical}
    for name in flag_items(instrument.scoring.flags):
        if name not in crit:
            raise BankError(
                f"item {name!r} is read by a flag of {instrument.id} and must be a critical "
                "item of the bank (always asked)"
            )


# --------------------------------------------------------------------------- configuration


class CatConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Rules of one adaptive test.

    Attributes
    ----------
    target_sd : float
        Stop once the posterior SD of theta is at or below this (after ``min_items``).
    max_items : int
        Stop after this many items (critical items included; critical items are asked even
        when there are more of them than ``max_items``).
    min_items : int
        Never stop on ``target_sd`` before this many items.
    top_k : int
        Randomesque exposure control: draw among the ``top_k`` most informative items.
    grid_points, grid_bound : int, float
        The EAP grid: ``grid_points`` equally spaced points on
        ``prior_mean ± grid_bound * prior_sd`` (the defaults are those of
        :func:`scoring.irt.eap`, so a test that asks every item gives the full-bank EAP).
    prior_mean, prior_sd : float
        The normal prior of theta.
    """

    target_sd: float = 0.3
    max_items: int = 20
    min_items: int = 1
    top_k: int = 5
    grid_points: int = 61
    grid_bound: float = 6.0
    prior_mean: float = 0.0
    prior_sd: float = 1.0

    def check(self) -> CatConfig:
        """Return ``self`` or raise ``ValueError`` naming the bad setting."""
        if not (math.isfinite(self.target_sd) and self.target_sd > 0):
            raise ValueError(f"target_sd must be positive, got {self.target_sd}")
        if self.max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {self.max_items}")
        if not 0 <= self.min_items <= self.max_items:
            raise ValueError(
                f"min_items must be between 0 and max_items ({self.max_items}), "
                f"got {self.min_items}"
            )
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.grid_points < 11:
            raise ValueError(f"grid_points must be at least 11, got {self.grid_points}")
        if not (math.isfinite(self.grid_bound) and self.grid_bound > 0):
            raise ValueError(f"grid_bound must be positive, got {self.grid_bound}")
        if not (math.isfinite(self.prior_sd) and self.prior_sd > 0):
            raise ValueError(f"prior_sd must be positive, got {self.prior_sd}")
        if not math.isfinite(self.prior_mean):
            raise ValueError(f"prior_mean must be finite, got {self.prior_mean}")
        return self


@dataclass(frozen=True, slots=True, eq=False)
class _Tables:
    grid: F64  # (Q,)
    log_prior: F64  # (Q,)
    log_probs: F64  # (J, K, Q): log P(category k of item j | theta_q)


def _tables(bank: ItemBank, config: CatConfig) -> _Tables:
    """Grid tables of a bank, computed once per (bank, grid, prior)."""
    key = (config.grid_points, config.grid_bound, config.prior_mean, config.prior_sd)
    found = bank._tables.get(key)
    if found is not None:
        return found
    grid = config.prior_mean + config.prior_sd * np.linspace(
        -config.grid_bound, config.grid_bound, config.grid_points
    )
    log_prior = -0.5 * ((grid - config.prior_mean) / config.prior_sd) ** 2
    probs = category_probabilities(grid, bank.params)  # (Q, J, K)
    log_probs = np.ascontiguousarray(np.log(np.maximum(probs, 1e-300)).transpose(1, 2, 0))
    for arr in (grid, log_prior, log_probs):
        arr.flags.writeable = False
    tables = _Tables(grid=grid, log_prior=log_prior, log_probs=log_probs)
    if len(bank._tables) > 16:
        bank._tables.clear()
    bank._tables[key] = tables
    return tables


# --------------------------------------------------------------------------- state


class CatState(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where one adaptive test stands; JSON-serialisable (``msgspec.json.encode``).

    Attributes
    ----------
    bank_id, bank_version : str
        The bank the test runs on (checked on every call).
    config : CatConfig
        The rules of the test.
    seed : int
        Seed of the randomesque draws.
    asked : tuple of str
        Items asked, in order.
    answers : tuple of (int or None)
        The raw option value given to each asked item (``None``: declined).
    log_posterior : tuple of float
        Log posterior on the grid, shifted so that its maximum is 0.
    theta, sd : float
        The current EAP estimate and posterior SD.
    """

    bank_id: str
    bank_version: str
    config: CatConfig
    seed: int
    asked: tuple[str, ...]
    answers: tuple[int | None, ...]
    log_posterior: tuple[float, ...]
    theta: float
    sd: float


def _check_state(bank: ItemBank, state: CatState) -> None:
    if not isinstance(state, CatState):
        raise ValueError(f"state must be a CatState, got {type(state).__name__}")
    if (state.bank_id, state.bank_version) != (bank.id, bank.version):
        raise ValueError(
            f"the state belongs to bank {state.bank_id} {state.bank_version}, "
            f"not {bank.id} {bank.version}"
        )
    state.config.check()  # a state read back from storage is checked like a new one
    if len(state.log_posterior) != state.config.grid_points:
        raise ValueError("the state's posterior does not match its grid")


def _moments(grid: F64, log_post: F64) -> tuple[float, float]:
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    theta = float(w @ grid)
    sd = float(math.sqrt(max(float(w @ (grid - theta) ** 2), 0.0)))
    return theta, sd


def start(bank: ItemBank, config: CatConfig | None = None, *, seed: int = 0) -> CatState:
    """Begin an adaptive test: the prior on the grid, nothing asked.

    Parameters
    ----------
    bank : ItemBank
    config : CatConfig, optional
        Defaults to ``CatConfig()``.
    seed : int
        Non-negative seed of the randomesque draws.

    Returns
    -------
    CatState
    """
    config = (config or CatConfig()).check()
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    tables = _tables(bank, config)
    log_post = tables.log_prior - tables.log_prior.max()
    theta, sd = _moments(tables.grid, log_post)
    return CatState(
        bank_id=bank.id,
        bank_version=bank.version,
        config=config,
        seed=seed,
        asked=(),
        answers=(),
        log_posterior=tuple(log_post.tolist()),
        theta=theta,
        sd=sd,
    )


def _pending_critical(bank: ItemBank, state: CatState) -> str | None:
    asked = set(state.asked)
    for i in bank.critical:
        if bank.names[i] not in asked:
            return bank.names[i]
    return None


def stop_reason(bank: ItemBank, state: CatState) -> StopReason | None:
    """Say why the test is over, or ``None`` while it goes on.

    A test never stops while a critical item is unasked. Otherwise it stops when every item
    was asked (``bank_exhausted``), after ``max_items`` items (``max_items``), or, after at
    least ``min_items`` items, once the posterior SD is at most ``target_sd``.
    """
    _check_state(bank, state)
    if _pending_critical(bank, state) is not None:
        return None
    n = len(state.asked)
    if n >= bank.size:
        return "bank_exhausted"
    if n >= state.config.max_items:
        return "max_items"
    if n >= state.config.min_items and state.sd <= state.config.target_sd:
        return "target_sd"
    return None


def item_information_at(bank: ItemBank, theta: float) -> F64:
    """Fisher information of every bank item at ``theta``, shape (J,)."""
    info: F64 = item_information(np.array([theta], dtype=np.float64), bank.params)[0]
    return info


def next_item(
    bank: ItemBank, state: CatState, *, rng: np.random.Generator | None = None
) -> str | None:
    """Choose the next item, or return ``None`` when the test is over.

    Pending critical items come first (bank order). Then the ``top_k`` unasked items with
    the largest information :math:`I_j(\\hat\\theta)` at the current EAP estimate are found
    and one is drawn uniformly (randomesque; ties broken by bank order).

    Parameters
    ----------
    bank : ItemBank
    state : CatState
    rng : numpy.random.Generator, optional
        Source of the draw; default a Generator seeded with ``(state.seed, len(state.asked))``
        (so a resumed test draws as an uninterrupted one).

    Returns
    -------
    str or None
        The item's name.
    """
    _check_state(bank, state)
    pending = _pending_critical(bank, state)
    if pending is not None:
        return pending
    if stop_reason(bank, state) is not None:
        return None
    info = item_information_at(bank, state.theta).copy()
    for name in state.asked:
        info[bank.index[name]] = -np.inf
    available = bank.size - len(state.asked)
    k = min(state.config.top_k, available)
    if k == 1:
        return bank.names[int(np.argmax(info))]
    top = np.argpartition(-info, k - 1)[:k]
    top = top[np.lexsort((top, -info[top]))]  # most informative first, then bank order
    if rng is None:
        rng = np.random.default_rng((state.seed, len(state.asked)))
    return bank.names[int(top[int(rng.integers(k))])]


def record_answer(bank: ItemBank, state: CatState, item: str, value: int | None) -> CatState:
    """Record the answer to ``item`` and update the EAP posterior in :math:`O(Q)`.

    Parameters
    ----------
    bank : ItemBank
    state : CatState
    item : str
        A bank item not yet asked.
    value : int or None
        One of the item's raw option values, or ``None`` when the student declined (the
        item counts as asked; the posterior is unchanged; a declined critical item raises
        the instrument's "unanswered" flag as on a fixed form).

    Returns
    -------
    CatState
        The new state (the old one is unchanged).

    Raises
    ------
    ValueError
        An unknown or already asked item, or a value that is not an option of the item.
    """
    _check_state(bank, state)
    j = bank.index.get(item)
    if j is None:
        raise ValueError(f"item {item!r} is not in bank {bank.id}")
    if item in state.asked:
        raise ValueError(f"item {item!r} was already answered")
    log_post = np.asarray(state.log_posterior, dtype=np.float64)
    theta, sd = state.theta, state.sd
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value not in bank.values[j]:
            raise ValueError(
                f"item {item!r}: answer must be one of {list(bank.values[j])} or null, "
                f"got {value!r}"
            )
        category = bank.values[j].index(value)
        tables = _tables(bank, state.config)
        log_post = log_post + tables.log_probs[j, category]
        log_post -= log_post.max()
        theta, sd = _moments(tables.grid, log_post)
    return msgspec.structs.replace(
        state,
        asked=(*state.asked, item),
        answers=(*state.answers, value),
        log_posterior=tuple(log_post.tolist()),
        theta=theta,
        sd=sd,
    )


# --------------------------------------------------------------------------- result


class CatResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The outcome of an adaptive test.

    ``answers`` maps every asked item to its raw value (``None``: declined); ``flags`` are
    the critical-item flags, computed by the same rules as on the fixed form;
    ``instrument_id``/``instrument_version`` name the instrument the bank calibrates (the
    bank itself when it is not bound to one), so triage rules written for that instrument's
    flags apply unchanged.
    """

    bank_id: str
    bank_version: str
    instrument_id: str
    instrument_version: str
    theta: float
    sd: float
    items: int
    stop: StopReason | None
    answers: dict[str, int | None]
    flags: tuple[Flag, ...]

    def score_result(self) -> ScoreResult:
        """The result as a :class:`scoring.ScoreResult` for ``triage.evaluate``.

        It carries the flags (which the safety floor covers whatever the status); there is no
        fixed-form total or band.
        """
        missing = tuple(item for item, value in self.answers.items() if value is None)
        return ScoreResult(
            instrument_id=self.instrument_id,
            instrument_version=self.instrument_version,
            status="scored",
            total=None,
            band=None,
            prorated=False,
            answered=len(self.answers) - len(missing),
            missing=missing,
            flags=self.flags,
        )


def bank_answers(bank: ItemBank, state: CatState) -> dict[str, int | None]:
    """The answers of the test keyed by item (asked items only; ``None``: declined)."""
    _check_state(bank, state)
    return dict(zip(state.asked, state.answers, strict=True))


def bank_flags(
    bank: ItemBank, answers: Mapping[str, int | None], instrument: Instrument | None = None
) -> tuple[Flag, ...]:
    """Critical-item flags of an answer set, exactly as a fixed form raises them.

    A bank bound to an instrument scores the answers with :func:`scoring.score` against
    that instrument (so its :class:`instruments.FlagRule` objects fire whatever the status);
    otherwise the bank's own rules are evaluated by the same condition evaluator.

    Raises
    ------
    ValueError
        If the bank is bound to an instrument and ``instrument`` is missing or another one.
    """
    if bank.instrument is not None:
        if instrument is None:
            raise ValueError(
                f"bank {bank.id} is bound to instrument {bank.instrument.id}: pass it to "
                "compute the flags"
            )
        check_bank_instrument(bank, instrument)
        return score(instrument, dict(answers)).flags
    given = {item: value for item, value in answers.items() if value is not None}
    ctx = Context(answers=given, rounded={}, decimals={})
    return tuple(
        Flag(code=rule.code, severity=rule.severity, item_id=rule.item)
        for rule in bank.flags
        if holds(rule.when, ctx)
    )


def finish(bank: ItemBank, state: CatState, instrument: Instrument | None = None) -> CatResult:
    """Close a test: theta, posterior SD, answers and critical-item flags.

    May be called on an unfinished test (an abandoned session): ``stop`` is then ``None``
    and unasked critical items raise the "unanswered" flags of their rules.
    """
    answers = bank_answers(bank, state)
    bound = bank.instrument
    return CatResult(
        bank_id=bank.id,
        bank_version=bank.version,
        instrument_id=bound.id if bound is not None else bank.id,
        instrument_version=bound.version if bound is not None else bank.version,
        theta=state.theta,
        sd=state.sd,
        items=len(state.asked),
        stop=stop_reason(bank, state),
        answers=answers,
        flags=bank_flags(bank, answers, instrument),
    )


# --------------------------------------------------------------------------- simulation


class SimulationReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Summary of a simulated CAT against full-bank scoring (``runxin cat simulate``)."""

    bank: str
    bank_items: int
    critical_items: int
    n: int
    seed: int
    target_sd: float
    max_items: int
    min_items: int
    top_k: int
    mean_length: float
    min_length: int
    max_length: int
    correlation_full_bank: float
    correlation_true: float
    rmse_full_bank: float
    mean_sd: float
    mean_sd_full_bank: float
    exposure_max: float
    exposure_max_adaptive: float
    items_never_used: int
    stop_reasons: dict[str, int]


def simulate_responses(
    bank: ItemBank, theta: F64, rng: np.random.Generator
) -> npt.NDArray[np.int8]:
    """Draw category indices (N, J) for true ``theta`` from the bank's model."""
    out = np.empty((theta.size, bank.size), dtype=np.int8)
    step = max(1, 200_000 // max(bank.size, 1))
    for lo in range(0, theta.size, step):
        probs = np.asarray(category_probabilities(theta[lo : lo + step], bank.params))
        cum = np.cumsum(probs, axis=2)
        u = rng.random((probs.shape[0], probs.shape[1], 1))
        out[lo : lo + step] = np.minimum((u > cum).sum(axis=2), probs.shape[2] - 1)
    return out


def simulate(
    bank: ItemBank,
    config: CatConfig | None = None,
    *,
    n: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationReport:
    """Simulate ``n`` adaptive tests and compare them with scoring on the full bank.

    True :math:`\\theta \\sim N(\\mu, \\sigma^2)` (the config's prior); each simulee answers
    every bank item from the model (seeded); the adaptive test sees only the items it asks,
    the full-bank estimate is :func:`scoring.irt.eap` on all J answers with the same prior.

    Parameters
    ----------
    bank : ItemBank
    config : CatConfig, optional
    n : int
        Number of simulees (at least 2).
    seed : int
        Seed of everything random (true theta, answers, randomesque draws).
    progress : callable, optional
        Called as ``progress(done, n)`` every 1,000 simulees and at the end.

    Returns
    -------
    SimulationReport
    """
    config = (config or CatConfig()).check()
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    rng = np.random.default_rng(seed)
    true_theta = rng.normal(config.prior_mean, config.prior_sd, size=n)
    cats = simulate_responses(bank, true_theta, rng)
    full = eap(
        cats.astype(np.int64),
        bank.params,
        points=config.grid_points,
        prior_mean=config.prior_mean,
        prior_sd=config.prior_sd,
    )
    full_theta = np.asarray(full.theta, dtype=np.float64)
    cat_theta = np.empty(n)
    cat_sd = np.empty(n)
    lengths = np.empty(n, dtype=np.int64)
    exposure = np.zeros(bank.size, dtype=np.int64)
    reasons: dict[str, int] = {}
    draw = np.random.default_rng((seed, 1))
    for s in range(n):
        state = start(bank, config, seed=seed)
        while (item := next_item(bank, state, rng=draw)) is not None:
            j = bank.index[item]
            state = record_answer(bank, state, item, bank.values[j][int(cats[s, j])])
            exposure[j] += 1
        cat_theta[s], cat_sd[s], lengths[s] = state.theta, state.sd, len(state.asked)
        why = stop_reason(bank, state) or "none"
        reasons[why] = reasons.get(why, 0) + 1
        if progress is not None and ((s + 1) % 1000 == 0 or s + 1 == n):
            progress(s + 1, n)
    rates = exposure / n
    adaptive = np.ones(bank.size, dtype=bool)
    adaptive[list(bank.critical)] = False
    return SimulationReport(
        bank=f"{bank.id} {bank.version}",
        bank_items=bank.size,
        critical_items=len(bank.critical),
        n=n,
        seed=seed,
        target_sd=config.target_sd,
        max_items=config.max_items,
        min_items=config.min_items,
        top_k=config.top_k,
        mean_length=float(lengths.mean()),
        min_length=int(lengths.min()),
        max_length=int(lengths.max()),
        correlation_full_bank=float(np.corrcoef(cat_theta, full_theta)[0, 1]),
        correlation_true=float(np.corrcoef(cat_theta, true_theta)[0, 1]),
        rmse_full_bank=float(np.sqrt(np.mean((cat_theta - full_theta) ** 2))),
        mean_sd=float(cat_sd.mean()),
        mean_sd_full_bank=float(np.mean(full.sd)),
        exposure_max=float(rates.max()),
        exposure_max_adaptive=float(rates[adaptive].max()) if adaptive.any() else 0.0,
        items_never_used=int((exposure == 0).sum()),
        stop_reasons=dict(sorted(reasons.items())),
    )
