"""What the service functions need besides the database session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instruments import Catalogue, Instrument
from survey_service.settings import Settings
from triage import Policy

DISTRICT_LAYER = "district.json"


@dataclass(frozen=True)
class Runtime:
    """Loaded once at start-up: settings, the instrument catalogue and the triage policies.

    ``policy`` is the district's policy (the shipped default, or ``RUNXIN_POLICY_PATH``, with
    the district override layer); ``school_policies`` adds each school's own override layer.
    """

    settings: Settings
    catalogue: Catalogue
    policy: Policy
    school_policies: Mapping[str, Policy] = field(default_factory=dict)

    def policy_for(self, school_code: str) -> Policy:
        """The policy in force at a school: its own layer over the district's, if it has one."""
        return self.school_policies.get(school_code, self.policy)


def load_runtime(settings: Settings, installed: Sequence[Instrument] = ()) -> Runtime:
    """Load the catalogue and the triage policies.

    The catalogue holds the shipped definitions, those in the configured extra folders and
    ``installed`` (definitions installed into the database). Policies: the base policy file
    (``RUNXIN_POLICY_PATH`` or the shipped default), then, from ``RUNXIN_POLICY_OVERRIDES_DIR``,
    the district layer ``district.json`` and one layer per school named ``<SCHOOL_CODE>.json``.
    A malformed file fails start-up with the file and field named, and so does a policy (with
    its layers) below the safety floor (:func:`triage.check_safety_floor`, checked against
    every instrument of the catalogue): the service refuses to start rather than miss, delay or
    configure away a suicide-risk answer.

    Raises
    ------
    PolicyError
        A policy file or layer is malformed or loosens a suicide-pathway deadline.
    SafetyFloorError
        The district's policy, or a school's, is below the safety floor; every problem is
        listed.
    """
    from instruments import load_catalogue
    from triage import (
        load_policy_layers,
        merge_policy,
        parse_policy_override,
        require_safety_floor,
    )

    catalogue = load_catalogue(tuple(Path(p) for p in settings.instruments_dirs))
    if installed:
        catalogue = Catalogue([*catalogue.values(), *installed])
    base = Path(settings.policy_path) if settings.policy_path else None
    layers: list[Path] = []
    school_files: list[Path] = []
    if settings.policy_overrides_dir:
        folder = Path(settings.policy_overrides_dir)
        if (folder / DISTRICT_LAYER).is_file():
            layers.append(folder / DISTRICT_LAYER)
        school_files = sorted(p for p in folder.glob("*.json") if p.name != DISTRICT_LAYER)
    policy = load_policy_layers(base, layers)
    schools = {
        file.stem: merge_policy(
            policy, parse_policy_override(file.read_bytes(), source=str(file)), source=str(file)
        )
        for file in school_files
    }
    base_name = str(base) if base is not None else "default"
    district_name = " + ".join([base_name, *(str(layer) for layer in layers)])
    require_safety_floor(policy, catalogue.values(), source=district_name)
    for file in school_files:
        require_safety_floor(
            schools[file.stem], catalogue.values(), source=f"{district_name} + {file}"
        )
    return Runtime(settings=settings, catalogue=catalogue, policy=policy, school_policies=schools)
