"""Reading definition files: JSON -> msgspec shape check -> semantic checks -> Instrument."""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec

from ._errors import DefinitionError
from ._model import Instrument
from ._schema import DefinitionFile
from ._validate import build_instrument

_DECODER = msgspec.json.Decoder(DefinitionFile)
_AT_PATH = re.compile(r"^(?P<detail>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)


def parse_definition(data: bytes | str, source: str) -> Instrument:
    """Decode and check one definition document.

    Parameters
    ----------
    data : bytes or str
        The JSON document (UTF-8 when bytes).
    source : str
        A label for error messages, normally the file path.

    Returns
    -------
    Instrument
        The frozen, checked instrument.

    Raises
    ------
    DefinitionError
        Bad JSON, an unknown field, a wrong type or a semantic error; the message names
        ``source`` and the field's JSON path (e.g. ``$.items[3].options``).
    """
    try:
        raw = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        if match is None:
            raise DefinitionError(source, "$", str(exc)) from exc
        raise DefinitionError(source, match["path"], match["detail"]) from exc
    except msgspec.DecodeError as exc:
        raise DefinitionError(source, "$", f"not valid JSON: {exc}") from exc
    return build_instrument(raw, source)


def load_definition(path: str | os.PathLike[str]) -> Instrument:
    """Load one definition file.

    Raises
    ------
    DefinitionError
        The file cannot be read or is malformed (see :func:`parse_definition`).
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DefinitionError(str(file), "$", f"cannot read the file: {exc.strerror}") from exc
    return parse_definition(data, str(file))
