"""Survey tokens: random, sent once in one email, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

#: 32 random bytes: 256 bits, well over the 128 that make guessing hopeless.
TOKEN_BYTES = 32


def mint() -> str:
    """A new URL-safe token (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> bytes:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("ascii", "replace")).digest()
