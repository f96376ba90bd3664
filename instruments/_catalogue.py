"""The catalogue: every loaded instrument by id."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar, overload

from ._errors import DefinitionError, UnknownInstrumentError
from ._loader import load_definition, parse_definition
from ._model import Instrument

_T = TypeVar("_T")
_NO_DEFAULT = object()


class Catalogue(Mapping[str, Instrument]):
    """An immutable mapping from instrument id to :class:`Instrument`.

    Unlike a plain mapping, a lookup of an unknown id - ``catalogue[id]`` or
    ``catalogue.get(id)`` without a default - raises :class:`UnknownInstrumentError`
    (a ``KeyError``) whose message lists the ids held. ``get(id, default)`` returns the
    default as usual.
    """

    __slots__ = ("_by_id",)

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        by_id: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.id in by_id:
                raise DefinitionError(
                    "catalogue", "$.id", f"duplicate instrument id {instrument.id!r}"
                )
            by_id[instrument.id] = instrument
        self._by_id = by_id

    def __getitem__(self, instrument_id: str) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownInstrumentError(instrument_id, self.ids()) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    @overload
    def get(self, instrument_id: str, /) -> Instrument: ...
    @overload
    def get(self, instrument_id: str, /, default: Instrument | _T) -> Instrument | _T: ...
    def get(self, instrument_id: str, /, default: object = _NO_DEFAULT) -> object:
        """Return the instrument; without a default an unknown id raises UnknownInstrumentError."""
        if default is _NO_DEFAULT:
            return self[instrument_id]
        return self._by_id.get(instrument_id, default)

    def ids(self) -> tuple[str, ...]:
        """The instrument ids, in load order."""
        return tuple(self._by_id)

    def __repr__(self) -> str:
        return f"Catalogue({', '.join(self._by_id)})"


def load_catalogue(extra_dirs: Sequence[Path] = ()) -> Catalogue:
    """Load the shipped definitions plus every ``*.json`` file in ``extra_dirs``.

    Files are read in name order, shipped ones first.

    Raises
    ------
    DefinitionError
        A malformed definition, a missing extra directory, or an id defined twice (the
        message names both files).
    """
    loaded: list[tuple[str, Instrument]] = []
    shipped = resources.files(__package__) / "definitions"
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json") and entry.is_file():
            loaded.append((str(entry), parse_definition(entry.read_bytes(), str(entry))))
    for directory in extra_dirs:
        folder = Path(directory)
        if not folder.is_dir():
            raise DefinitionError(str(folder), "$", "not a directory")
        for file in sorted(folder.glob("*.json")):
            loaded.append((str(file), load_definition(file)))
    sources: dict[str, str] = {}
    for source, instrument in loaded:
        first = sources.setdefault(instrument.id, source)
        if first != source:
            raise DefinitionError(
                source, "$.id", f"duplicate instrument id {instrument.id!r}, already in {first}"
            )
    return Catalogue(instrument for _, instrument in loaded)


@functools.cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, loaded once and cached."""
    return load_catalogue()
