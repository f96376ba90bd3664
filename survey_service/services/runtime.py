"""What the service functions need besides the database session."""

from __future__ import annotations

from dataclasses import dataclass

from instruments import Catalogue
from triage import Policy, SchoolCalendar

from ..settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Loaded once at start-up: settings, the instrument catalogue and the triage policy."""

    settings: Settings
    catalogue: Catalogue
    policy: Policy

    def calendar_for(self, timezone: str) -> SchoolCalendar:
        """The school calendar (weekdays, school hours) in the school's time zone."""
        return SchoolCalendar(timezone=timezone)


def load_runtime(settings: Settings) -> Runtime:
    """Load the catalogue (shipped plus configured extra folders) and the triage policy."""
    from pathlib import Path

    from instruments import load_catalogue
    from triage import load_policy

    catalogue = load_catalogue(tuple(Path(p) for p in settings.instruments_dirs))
    policy = load_policy(Path(settings.policy_path) if settings.policy_path else None)
    return Runtime(settings=settings, catalogue=catalogue, policy=policy)
