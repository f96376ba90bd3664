"""Errors raised for bad answers."""

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
    """

    def __init__(self, instrument_id: str, item_id: str | None, message: str) -> None:
        self.instrument_id = instrument_id
        self.item_id = item_id
        super().__init__(message)
