"""Secrets handling: access codes, bearer tokens, password hashes.

Access codes and tokens are stored only as HMAC-SHA256 digests keyed with the service secret,
so a copy of the database alone does not let anyone start a screening or act as staff.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import os
import secrets
import weakref
from collections.abc import Sequence
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
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


# --- hashing off the event loop, on a bounded pool ----------------------------------------


def hashing_threads() -> int:
    """Threads that may hash at once: one core is left to the event loop (at least one)."""
    return max(1, (os.cpu_count() or 1) - 1)


_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter() -> anyio.CapacityLimiter:
    """The hashing limiter of the running event loop (each loop gets its own: a limiter
    belongs to the loop it was made on)."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(hashing_threads())
    return limiter


async def verify_password_async(password_hash: str, password: str) -> bool:
    """:func:`verify_password` in a worker thread of the bounded hashing pool.

    argon2 takes ~0.1 s of CPU and releases the GIL: a flood of bad logins queues here instead
    of taking every core (anyio's default pool has 40 threads) and stalling other requests.
    """
    return await anyio.to_thread.run_sync(
        verify_password, password_hash, password, limiter=_limiter()
    )


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in a worker thread of the bounded hashing pool."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_limiter())


# --- where a request comes from, and what the deployment promises -------------------------


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]
) -> str:
    """The client's address: the connection's peer, unless the peer is a trusted proxy, in
    which case the right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy
    (entries to its left are whatever the client claimed and are ignored)."""
    address = peer or "unknown"
    if not trusted_proxies or not forwarded_for or not _in_networks(address, trusted_proxies):
        return address[:64]
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: trust nothing further left
        address = hop
        if not _in_networks(hop, trusted_proxies):
            break
    return address[:64]


def _in_networks(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def is_local_http(base_url: str) -> bool:
    """True when the public address is plain http on this machine (development, tests)."""
    parts = urlsplit(base_url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS


def is_https(base_url: str) -> bool:
    return urlsplit(base_url).scheme == "https"


def weak_secret_key(secret_key: str, dev_key: str) -> bool:
    """True when the service key is missing or the public development key."""
    return not secret_key.strip() or secret_key == dev_key
