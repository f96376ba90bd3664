"""The merge rule for answers saved as a student goes: monotonic, per item.

Saves reach the server from several places that may race: the page's script saves each answer
as it is chosen (one request per click, which can arrive in any order), the page's own form
posts the whole part when the student presses Next, another device may resume the session, and
the submission finally takes everything saved. The rule that keeps every answer a student gave:

* **An empty save never erases an answer.** ``None`` (an item left out when the student went
  past it) is recorded only where nothing was saved for the item yet.
* **An older save never replaces a newer answer.** Every save carries a *stamp*
  ``(view, seq)``: ``view`` is the session's save counter (:attr:`SavedState.version`) when the
  page that made the save was rendered, ``seq`` a number that grows with every change the page
  makes (the page's script takes it from the browser clock). A page rendered later has seen
  every save before it, so its stamp is larger; within one page, ``seq`` orders the clicks.
  A save without a stamp (a page without JavaScript, an API client that sends none) cannot
  race with saves of its own page, so it is stamped ``(version, AUTHORITATIVE_SEQ)``: it wins
  over everything saved before it arrived.

Pure code: no database, no clock. The service applies :func:`merge` under the session's row
lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AUTHORITATIVE_SEQ",
    "MergeResult",
    "SavedState",
    "Stamp",
    "merge",
    "union_for_submission",
]

#: The ``seq`` of a save that carries no stamp of its own: larger than any browser clock value.
AUTHORITATIVE_SEQ = 2**53 - 1
_NEVER = (-1, -1)


@dataclass(frozen=True, order=True)
class Stamp:
    """When a save was made: the page's view (save counter at render time), then its seq."""

    view: int
    seq: int

    def __post_init__(self) -> None:
        if isinstance(self.view, bool) or not isinstance(self.view, int) or self.view < 0:
            raise ValueError(f"view must be a whole number ≥ 0, got {self.view!r}")
        if (
            isinstance(self.seq, bool)
            or not isinstance(self.seq, int)
            or not 0 <= self.seq <= AUTHORITATIVE_SEQ
        ):
            raise ValueError(f"seq must be a whole number from 0 to {AUTHORITATIVE_SEQ}")


@dataclass(frozen=True)
class SavedState:
    """What is saved for one session.

    ``answers`` maps instrument id → item id → option value (or ``None``: seen and left out);
    ``stamps`` the same keys → ``[view, seq]`` of the save that set the value; ``version``
    counts the saves that changed anything.
    """

    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stamps: Mapping[str, Mapping[str, list[int]]] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True)
class MergeResult:
    """The state after a save, and which items the save could not change (older or empty)."""

    state: SavedState
    changed: tuple[tuple[str, str], ...]
    kept: tuple[tuple[str, str], ...]


def _stamp_of(state: SavedState, instrument_id: str, item_id: str) -> tuple[int, int]:
    raw = state.stamps.get(instrument_id, {}).get(item_id)
    if not raw:
        return _NEVER
    return int(raw[0]), int(raw[1])


def merge(
    state: SavedState,
    incoming: Mapping[str, Mapping[str, Any]],
    stamp: Stamp | None = None,
) -> MergeResult:
    """Apply one save to ``state`` by the monotonic rule (see the module docstring).

    Parameters
    ----------
    state
        What is saved now.
    incoming
        instrument id → item id → value (``None``: the item was left out).
    stamp
        The save's stamp; ``None`` for a save that cannot race with others of its page
        (stamped ``(state.version, AUTHORITATIVE_SEQ)``). A view later than ``state.version``
        cannot have been rendered yet and is treated as ``state.version``.

    Returns
    -------
    MergeResult
        The new state (``version`` + 1 when anything changed), the items changed (a value or
        the stamp that set it) and the items kept because the stored answer was newer or the
        save was empty.
    """
    if stamp is None:
        new = (state.version, AUTHORITATIVE_SEQ)
    else:
        new = (min(stamp.view, state.version), stamp.seq)
    answers = {k: dict(v) for k, v in state.answers.items()}
    stamps = {k: {i: list(s) for i, s in v.items()} for k, v in state.stamps.items()}
    changed: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    for instrument_id, items in incoming.items():
        saved = answers.setdefault(instrument_id, {})
        saved_stamps = stamps.setdefault(instrument_id, {})
        for item_id, value in items.items():
            key = (instrument_id, item_id)
            old_stamp = _stamp_of(state, instrument_id, item_id)
            if item_id not in saved:
                saved[item_id] = value
                saved_stamps[item_id] = list(new)
                changed.append(key)
            elif value is None:
                kept.append(key)  # empty: never erases, and a skip is already recorded
            elif saved[item_id] is None:
                # An answer fills a blank whatever their order: a blank is no answer to keep.
                saved[item_id] = value
                saved_stamps[item_id] = list(new)
                changed.append(key)
            elif new >= old_stamp:
                # Changed even where the value is the same: the newer stamp must be stored, or
                # an older save of another value could still land after it.
                saved[item_id] = value
                saved_stamps[item_id] = list(new)
                changed.append(key)
            else:
                kept.append(key)  # an older save than the answer stored
        if not saved:
            del answers[instrument_id]
            del stamps[instrument_id]
    version = state.version + 1 if changed else state.version
    return MergeResult(
        state=SavedState(answers=answers, stamps=stamps, version=version),
        changed=tuple(changed),
        kept=tuple(kept),
    )


def union_for_submission(
    item_ids: Mapping[str, Sequence[str]],
    state: SavedState,
    submitted: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The answers a submission is scored on: what was saved, then what the submission carries.

    The submission is the latest save (it cannot be older than anything the student did before
    pressing Submit), merged by the same rule, so a ``null`` in it never erases a saved answer.
    Every item of every instrument in ``item_ids`` is present (``None`` when never answered).
    """
    merged = merge(state, submitted).state.answers
    return {
        instrument_id: {item_id: merged.get(instrument_id, {}).get(item_id) for item_id in items}
        for instrument_id, items in item_ids.items()
    }
