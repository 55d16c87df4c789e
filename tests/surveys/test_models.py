"""The invitation state machine and tokens."""

from __future__ import annotations

import pytest

from avis.surveys import tokens
from avis.surveys.models.invitations import (
    TRANSITIONS,
    InvalidTransition,
    Invitation,
    InvitationStatus,
)

S = InvitationStatus


def test_every_status_has_its_transitions() -> None:
    assert set(TRANSITIONS) == set(InvitationStatus)


@pytest.mark.parametrize(("start", "end"), [
    (S.pending, S.sent), (S.sent, S.delivered), (S.delivered, S.opened),
    (S.opened, S.answered), (S.sent, S.answered), (S.sent, S.bounced),
    (S.pending, S.failed), (S.opened, S.expired), (S.unsubscribed, S.answered),
    (S.pending, S.opened),  # provider events arrive out of order
])
def test_allowed_moves(start: InvitationStatus, end: InvitationStatus) -> None:
    invitation = Invitation(status=start)
    invitation.move_to(end)
    assert invitation.status == end
    assert invitation.status_dt is not None


@pytest.mark.parametrize(("start", "end"), [
    (S.answered, S.sent), (S.answered, S.expired), (S.expired, S.answered),
    (S.bounced, S.delivered), (S.opened, S.delivered), (S.sent, S.pending),
    (S.failed, S.sent), (S.sent, S.failed), (S.complained, S.answered),
])
def test_refused_moves(start: InvitationStatus, end: InvitationStatus) -> None:
    invitation = Invitation(status=start)
    with pytest.raises(InvalidTransition):
        invitation.move_to(end)
    assert invitation.status == start


def test_final_statuses_stay_final() -> None:
    for status in (S.answered, S.bounced, S.complained, S.expired, S.failed):
        assert not TRANSITIONS[status]


def test_tokens_are_long_random_and_only_their_hash_is_kept() -> None:
    minted = {tokens.mint() for _ in range(1000)}
    assert len(minted) == 1000
    token = minted.pop()
    assert len(token) >= 22  # 128 bits in URL-safe base64 need 22 characters
    assert len(tokens.digest(token)) == 32
    assert token.encode() not in tokens.digest(token)
