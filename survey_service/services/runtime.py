"""What the service functions need besides the database session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from instruments import Catalogue, Instrument
from triage import Policy

from ..settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Loaded once at start-up: settings, the instrument catalogue and the triage policy."""

    settings: Settings
    catalogue: Catalogue
    policy: Policy


def load_runtime(settings: Settings, installed: Sequence[Instrument] = ()) -> Runtime:
    """Load the catalogue and the triage policy.

    The catalogue holds the shipped definitions, those in the configured extra folders and
    ``installed`` (definitions installed into the database).
    """
    from pathlib import Path

    from instruments import load_catalogue
    from triage import load_policy

    catalogue = load_catalogue(tuple(Path(p) for p in settings.instruments_dirs))
    if installed:
        catalogue = Catalogue([*catalogue.values(), *installed])
    policy = load_policy(Path(settings.policy_path) if settings.policy_path else None)
    return Runtime(settings=settings, catalogue=catalogue, policy=policy)
