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


_HASHER = PasswordHasher()  # argon2id with the library's current defaults


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises on a mismatch."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
