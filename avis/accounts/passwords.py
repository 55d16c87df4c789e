"""Passwords: argon2id hashes, and the rules a new password must meet.

The hashing parameters are settings (``AVIS_ARGON2_*``); a hash made with other
parameters is verified as it is and replaced at the next successful sign-in.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

#: NIST SP 800-63B asks for at least 8; a passphrase of 12 is within everyone's reach.
MIN_LENGTH = 12
#: Longer is pointless and would let anyone make the server hash megabytes.
MAX_LENGTH = 256
#: zxcvbn's score (0–4) a password must reach: 3 is "safely unguessable" (≥ 10^8 guesses).
MIN_STRENGTH = 3


@dataclass(frozen=True)
class Parameters:
    time_cost: int
    memory_kib: int
    parallelism: int


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(Parameters(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"],
                              config["ARGON2_PARALLELISM"]))


@functools.lru_cache(maxsize=8)
def _hasher(parameters: Parameters) -> PasswordHasher:
    return PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_kib,
                          parallelism=parameters.parallelism)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. Without a stored hash (unknown account, account
    not yet activated) a dummy hash is verified instead, so that the answer takes as
    long and an attacker cannot tell known addresses by the time."""
    ph = hasher()
    # Made at a process's first sign-in whatever the address: made only for unknown
    # ones, that first answer would take twice as long and tell them apart.
    dummy = _dummy_hash(ph)
    if stored_hash is None:
        with contextlib.suppress(VerificationError):
            ph.verify(dummy, password + "\x00")
        return False
    try:
        return ph.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@functools.lru_cache(maxsize=8)
def _dummy_hash(ph: PasswordHasher) -> str:
    """A hash made with the same parameters as real ones (``_hasher`` is cached, so one
    per set of parameters)."""
    return ph.hash("avis: no such account")


def problems(password: str, *, email: str | None = None) -> list[str]:
    """Why ``password`` may not be chosen (message ids for ``forms``); empty if fine."""
    if len(password) < MIN_LENGTH:
        return ["too_short"]
    if len(password) > MAX_LENGTH:
        return ["too_long"]
    if is_common(password) or _is_the_address(password, email) \
            or _strength(password, email) < MIN_STRENGTH:
        return ["too_common"]
    return []


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _is_the_address(password: str, email: str | None) -> bool:
    """Mostly the address's name part, give or take punctuation: the first thing tried."""
    if not email:
        return False
    local, letters = _letters(email.partition("@")[0]), _letters(password)
    return len(local) >= 4 and local in letters and 2 * len(local) >= len(letters)


def is_common(password: str) -> bool:
    """In zxcvbn's list of the 30,000 most common passwords (from leaked sets)."""
    return password.lower() in _common_passwords()


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _strength(password: str, email: str | None) -> int:
    from zxcvbn import zxcvbn

    inputs = ["avis", "anotea", "formation", "region"]
    if email:
        local, _, domain = email.partition("@")
        inputs += [local, domain, *local.replace("_", ".").replace("-", ".").split(".")]
    return int(zxcvbn(password, user_inputs=[i for i in inputs if i])["score"])
