"""Argparse types shared by the ``runxin`` command modules: bad usage (exit 2) before any work.

Feature command modules (``cat_cli``, ``norms_cli``) may not import :mod:`survey_service.cli`
(the architecture tests forbid it), so the types live here.
"""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def zero_or_more(text: str) -> int:
    """A whole number of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
