"""Errors raised for bad answers and bad student context."""

from __future__ import annotations


class AnswerError(ValueError):
    """An answer set does not fit the instrument (never clamped or coerced).

    Attributes
    ----------
    instrument_id : str
        The instrument being scored.
    item_id : str or None
        The offending item (an unknown key is reported as given); ``None`` when the problem
        concerns the whole answer set, e.g. a list of the wrong length.
    row, column : int or None
        For :func:`scoring.score_batch`: the first bad row and its item column (else ``None``).
    """

    def __init__(
        self,
        instrument_id: str,
        item_id: str | None,
        message: str,
        *,
        row: int | None = None,
        column: int | None = None,
    ) -> None:
        self.instrument_id = instrument_id
        self.item_id = item_id
        self.row = row
        self.column = column
        super().__init__(message)


class ContextError(ValueError):
    """The student context (grade, gender) is missing or malformed where norms need it."""
