"""Password rules and hashes."""

from __future__ import annotations

import argon2
import pytest
from flask import Flask

from avis.accounts import passwords


@pytest.mark.parametrize("password", [
    "Short-1",  # under 12 characters
    "password1234", "azertyuiop12", "motdepasse123", "aaaaaaaaaaaa", "123456789012",
    "qwertyuiopasdf",
])
def test_weak_passwords_are_refused(app_context: None, password: str) -> None:
    assert passwords.problems(password) != []


def test_the_common_list_is_zxcvbns(app_context: None) -> None:
    # 30,000 passwords from leaked sets; a 12-character one from it is refused as common.
    assert passwords.is_common("1234567890ab") is False
    assert passwords.is_common("PASSWORD") is True
    assert passwords.problems("basketball12") == ["too_common"]


@pytest.mark.parametrize("password", [
    "Ardoise-Lanterne-Quatre", "correct horse battery staple", "Nantes, le 3 mai à 7 h !"])
def test_long_unusual_passwords_are_accepted(app_context: None, password: str) -> None:
    assert passwords.problems(password) == []


def test_the_address_itself_does_not_make_a_password(app_context: None) -> None:
    email = "jean-baptiste.delacroix@formation-ouest.example"
    assert passwords.problems("jeanbaptiste.delacroix", email=email) == ["too_common"]
    assert passwords.problems("jeanbaptiste.delacroix") == []


def test_too_long_is_refused_before_any_hashing(app_context: None) -> None:
    assert passwords.problems("x" * 257) == ["too_long"]


def test_hashes_are_argon2id_with_the_configured_cost(app: Flask) -> None:
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_KIB=1024, ARGON2_PARALLELISM=2)
    with app.app_context():
        hashed = passwords.hash_password("Ardoise-Lanterne-Quatre")
        parameters = argon2.extract_parameters(hashed)
        assert (parameters.type, parameters.time_cost, parameters.memory_cost,
                parameters.parallelism) == (argon2.Type.ID, 2, 1024, 2)
        assert passwords.verify(hashed, "Ardoise-Lanterne-Quatre")
        assert not passwords.verify(hashed, "Ardoise-Lanterne-Quatr")
        assert not passwords.verify(None, "Ardoise-Lanterne-Quatre")
        assert not passwords.verify("not a hash", "Ardoise-Lanterne-Quatre")
        assert not passwords.needs_rehash(hashed)
        app.config["ARGON2_TIME_COST"] = 3
        assert passwords.needs_rehash(hashed)
