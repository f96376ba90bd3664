"""Secrets handling: access codes, bearer tokens, password hashes.

Access codes and tokens are stored only as HMAC-SHA256 digests keyed with the service secret,
so a copy of the database alone does not let anyone start a screening or act as staff.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Crockford-style alphabet without look-alikes (0/O, 1/I/L) so codes can be typed from a slip.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ≈ 8e14 possibilities


def digest(secret_key: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under ``secret_key``."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_access_code() -> str:
    """A fresh, unguessable access code shown as ``XXXXX-XXXXX``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_access_code(code: str) -> str:
    """Upper-case and drop spaces and dashes, so ``abcde-fghjk`` and ``ABCDEFGHJK`` match."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def new_token() -> str:
    """A bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class PasswordHashing:
    """The argon2id hasher in use. Production never configures it: it stays argon2id with the
    library's defaults. Tests call :func:`configure_password_hashing` with cheap parameters
    (nothing here reads the environment)."""

    def __init__(self) -> None:
        self.hasher = PasswordHasher()  # argon2id with the library's current defaults
        self._dummy: str | None = None

    def configure(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy = None

    def dummy_hash(self) -> str:
        """A hash of a password nobody has, made on first use with the hasher in use."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("runxin-dummy-password")
        return self._dummy


PASSWORD_HASHING = PasswordHashing()


def configure_password_hashing(
    *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None
) -> None:
    """Use argon2id with these parameters from now on (``None``: the library default).
    Hashes made earlier still verify: argon2 hashes carry their own parameters."""
    defaults = PasswordHasher()
    PASSWORD_HASHING.configure(
        PasswordHasher(
            time_cost=defaults.time_cost if time_cost is None else time_cost,
            memory_cost=defaults.memory_cost if memory_cost is None else memory_cost,
            parallelism=defaults.parallelism if parallelism is None else parallelism,
        )
    )


def reset_password_hashing() -> None:
    """Back to the production hasher: argon2id with the library's defaults."""
    PASSWORD_HASHING.configure(PasswordHasher())


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return PASSWORD_HASHING.hasher.hash(password)


def dummy_password_hash() -> str:
    """A hash to verify against when the user does not exist, so an unknown username costs
    as much time as a wrong password. Computed lazily, with the configured hasher."""
    return PASSWORD_HASHING.dummy_hash()


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises on a mismatch."""
    try:
        return PASSWORD_HASHING.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
