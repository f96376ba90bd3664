"""The service's log lines: one JSON object a line (issue 14), or plain text for a terminal.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; a line about
an HTTP request also has ``request_id``, ``method``, ``path`` (a student's access code
redacted), ``status`` and, where known, ``code`` (the problem code) and ``duration_ms``.
Nothing else is copied from a record: a field that a library attaches to its records is
dropped, so an answer, a name, a token or free text cannot reach the log through an
``extra``. What the messages themselves say is kept free of such data by the code that logs
(``errors.log_exception`` names the problem code, never the detail); a test seeds canary
values through the whole flow and scans every line (``tests/survey_service/test_log_lines.py``).

``RUNXIN_LOG_FORMAT`` chooses ``json`` (the default: for a log collector) or ``text``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from survey_service.settings import LOG_FORMATS

#: The record attributes a line may carry besides the message (set with ``extra=``).
FIELDS = ("request_id", "method", "path", "status", "code", "duration_ms", "worker", "event")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module's docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # The record's own creation time: formatting it reads no clock.
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` formatter entry for ``log_format``.

    Raises
    ------
    ValueError
        If ``log_format`` is not one of :data:`LOG_FORMATS`.
    """
    if log_format == "json":
        return {"()": JsonFormatter}
    if log_format == "text":
        return {"format": TEXT_FORMAT}
    raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")


def process_log_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """The ``dictConfig`` of a Runxin process (``runxin serve``'s uvicorn, ``runxin worker``):
    one stderr handler in ``log_format`` for the root logger and uvicorn's loggers."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"runxin": formatter_config(log_format)},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "runxin",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own loggers propagate to the root (one format for every line).
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            # aiosqlite logs every statement with its parameters at DEBUG (children's data).
            "aiosqlite": {"level": "INFO"},
        },
    }
