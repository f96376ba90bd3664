"""Errors raised by the instrument loader and the catalogue."""

from __future__ import annotations


class DefinitionError(ValueError):
    """A definition file is malformed or semantically wrong.

    The message names the file and the field, the field as a JSON path in msgspec's style
    (for example ``$.items[3].options``).

    Attributes
    ----------
    source : str
        The file (or other source label) that holds the definition.
    field : str
        JSON path of the offending field; ``$`` when the whole document is at fault.
    detail : str
        What is wrong, without the file and field prefix.
    """

    def __init__(self, source: str, field: str, detail: str) -> None:
        self.source = source
        self.field = field
        self.detail = detail
        super().__init__(f"{source}: {field}: {detail}")


class UnknownInstrumentError(KeyError):
    """The catalogue holds no instrument with the requested id.

    Attributes
    ----------
    instrument_id : str
        The id that was asked for.
    known : tuple of str
        The ids the catalogue does hold.
    """

    def __init__(self, instrument_id: str, known: tuple[str, ...]) -> None:
        self.instrument_id = instrument_id
        self.known = known
        super().__init__(instrument_id)

    def __str__(self) -> str:
        known = ", ".join(self.known) if self.known else "none"
        return f"unknown instrument id {self.instrument_id!r}; the catalogue holds: {known}"
