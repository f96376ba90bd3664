"""Password hashing: production keeps argon2id with the library's defaults; only tests make it
cheap (tests/conftest.py), and the dummy hash for unknown users is made lazily."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from survey_service import security

PROBE = """
import survey_service.accounts.auth  # importing the login code hashes nothing
from survey_service import security
assert security.PASSWORD_HASHING._dummy is None, "the dummy hash was made at import time"
print(security.hash_password("pw"))
print(security.dummy_password_hash())
"""


def _params(password_hash: str) -> str:
    # $argon2id$v=19$m=65536,t=3,p=4$salt$hash
    return password_hash.split("$")[3]


def test_production_defaults_when_nothing_is_configured() -> None:
    """A fresh interpreter that configures nothing (as the service does) hashes with argon2id
    and the library's defaults, and makes the dummy hash only on first use."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    defaults = PasswordHasher()
    expected = f"m={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}"
    assert expected == "m=65536,t=3,p=4"  # argon2-cffi's RFC 9106 low-memory profile
    for line in out:
        assert line.startswith("$argon2id$v=19$")
        assert _params(line) == expected


@pytest.fixture
def restore_hasher() -> Iterator[None]:
    before = security.PASSWORD_HASHING.hasher
    yield
    security.PASSWORD_HASHING.configure(before)


@pytest.mark.usefixtures("restore_hasher")
def test_configured_parameters_apply_and_old_hashes_still_verify() -> None:
    security.reset_password_hashing()
    strong = security.hash_password("secret")
    assert _params(strong) == "m=65536,t=3,p=4"
    assert _params(security.dummy_password_hash()) == "m=65536,t=3,p=4"

    security.configure_password_hashing(time_cost=1, memory_cost=8, parallelism=1)
    cheap = security.hash_password("secret")
    assert cheap.startswith("$argon2id$") and _params(cheap) == "m=8,t=1,p=1"
    assert _params(security.dummy_password_hash()) == "m=8,t=1,p=1"  # made anew
    for h in (strong, cheap):  # argon2 hashes carry their own parameters
        assert security.verify_password(h, "secret")
        assert not security.verify_password(h, "wrong")
    assert not security.verify_password("not-a-hash", "secret")


def test_the_test_suite_runs_with_cheap_parameters() -> None:
    assert _params(security.hash_password("x")) == "m=8,t=1,p=1"
