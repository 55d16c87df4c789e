"""Accounts of staff and training bodies, their sign-in sessions, tokens and mail."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, CodeList, string_enum


class Role(enum.StrEnum):
    """What an account is for; each back-office view declares the roles it admits."""

    #: runs the service: accounts, audit journal, every région
    admin = "admin"
    #: reads and decides on comments, replies and reports (one région, or all)
    moderator = "moderator"
    #: Region staff (funders): response rates and satisfaction of one région
    region = "region"
    #: a training body: its own reviews and scores (a SIREN, or one SIRET)
    organisation = "organisation"


class AccountStatus(enum.StrEnum):
    #: created, the owner has not chosen a password yet (activation email)
    invited = "invited"
    #: may sign in
    active = "active"
    #: may not sign in; every session ended
    disabled = "disabled"


class Account(Base):
    """One person's access to the back office: staff, or someone of a training body.

    The scope (``region_code``, ``funder_codes``, ``siren``/``siret``) is what
    ``avis.accounts.scope`` filters every query of scoped data by.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        # A body account names exactly one of a SIREN (all establishments) or a SIRET.
        sa.CheckConstraint(
            "(role = 'organisation' AND (siren IS NULL) <> (siret IS NULL)) OR "
            "(role <> 'organisation' AND siren IS NULL AND siret IS NULL)",
            name="organisation_scope"),
        sa.CheckConstraint("role <> 'region' OR region_code IS NOT NULL", name="region_scope"),
        # Trainees' names and emails are for Region staff and admins only: never for a
        # training body, never for moderators (who judge comments, not people).
        sa.CheckConstraint("NOT can_see_personal_data OR role IN ('region', 'admin')",
                           name="personal_data_roles"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: lowercased email address: the sign-in name; one account per person
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: the person's name as staff typed it (optional, shown in the journal)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    #: what the account may do
    role: Mapped[Role] = mapped_column(string_enum(Role, 16))
    #: invited, active or disabled
    status: Mapped[AccountStatus] = mapped_column(string_enum(AccountStatus, 16),
                                                  default=AccountStatus.invited)
    #: INSEE région code the account is limited to (region staff; moderators when set)
    region_code: Mapped[str | None] = mapped_column(sa.String(2))
    #: funder codes a region account is further limited to (empty: every funder)
    funder_codes: Mapped[list[int]] = mapped_column(CodeList, default=list)
    #: an admin granted the reading of trainees' names and emails in the lists
    #: (``avis.monitoring.lists``); region staff and admins only
    can_see_personal_data: Mapped[bool] = mapped_column(default=False,
                                                        server_default=sa.false())
    #: a training body account for every establishment of this SIREN
    siren: Mapped[str | None] = mapped_column(sa.String(9), index=True)
    #: a training body account for this one establishment
    siret: Mapped[str | None] = mapped_column(sa.String(14), index=True)
    #: argon2id hash of the password; None until the owner chooses one
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    #: when the password was last set
    password_changed_dt: Mapped[dt.datetime | None]
    #: base32 TOTP secret, once the second factor is confirmed (or being set up)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    #: when the owner confirmed the second factor; None while it is off
    totp_enabled_dt: Mapped[dt.datetime | None]
    #: the last TOTP time step accepted: the same code never opens two sessions
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: failed sign-in attempts since the last success (password or second factor)
    failed_logins: Mapped[int] = mapped_column(default=0)
    #: sign-in refused until then, after too many failures
    locked_until_dt: Mapped[dt.datetime | None]
    #: last successful sign-in
    last_login_dt: Mapped[dt.datetime | None]
    #: last request of a signed-in session (updated at most once a minute)
    last_seen_dt: Mapped[dt.datetime | None]
    #: the account that created this one; None for the command line and the jobs
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    #: when the account was created
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the account was disabled
    disabled_dt: Mapped[dt.datetime | None]

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_dt is not None

    @property
    def scope_label(self) -> str:
        """The scope as short text for lists: "52", "52 · 2, 4", "SIREN 123456789"."""
        if self.siren:
            return f"SIREN {self.siren}"
        if self.siret:
            return f"SIRET {self.siret}"
        if self.region_code:
            funders = ", ".join(map(str, self.funder_codes or ()))
            return f"{self.region_code} · {funders}" if funders else self.region_code
        return "—"

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.role}>"  # never the email: reprs reach logs


class AccountSession(Base):
    """A signed-in browser. The cookie holds a random token, the table its hash:
    deleting the rows ends the sessions on every process at once."""

    __tablename__ = "account_sessions"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the session token kept in the browser's signed cookie
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: whose session
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: sign-in time: the absolute lifetime counts from it
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: last request seen (to the minute): the idle lifetime counts from it
    last_seen_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)


class TokenPurpose(enum.StrEnum):
    #: choose a first password (7 days)
    activation = "activation"
    #: choose a new password after "forgotten password" (1 hour)
    reset = "reset"


class AccountToken(Base):
    """A single-use link sent by email; only its hash is stored."""

    __tablename__ = "account_tokens"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: the account it opens
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: activation or reset
    purpose: Mapped[TokenPurpose] = mapped_column(string_enum(TokenPurpose, 16))
    #: when it was minted (sent)
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: not valid from then on
    expires_dt: Mapped[dt.datetime]
    #: when it was used; a used token opens nothing
    used_dt: Mapped[dt.datetime | None]


class RecoveryCode(Base):
    """A one-time code that replaces the second factor when the phone is lost."""

    __tablename__ = "recovery_codes"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the code (80 random bits: a plain hash is enough)
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: when it was used; None while it still works
    used_dt: Mapped[dt.datetime | None]


class AccountMail(enum.StrEnum):
    #: an account created for someone: choose your password
    activation = "activation"
    #: the same, seven days later, for a training body that has not activated
    activation_reminder = "activation_reminder"
    #: "forgotten password"
    reset = "reset"
    #: a moderator examined the body's report on a review (no link: the decision and the
    #: moderator's message)
    report_decided = "report_decided"
    #: to moderators: items have waited longer than ``MODERATION_DELAY_HOURS``
    moderation_backlog = "moderation_backlog"
    #: to Region staff, weekly: the alerts open in their scope
    alerts_digest = "alerts_digest"
    #: to a training body, at most every ``BODY_DIGEST_DAYS`` days: its new reviews
    body_digest = "body_digest"
    #: to a training body: a moderator published or rejected its reply
    reply_decided = "reply_decided"


class AccountMessageStatus(enum.StrEnum):
    queued = "queued"
    #: claimed by a sender until ``lease_expires_dt``
    sending = "sending"
    sent = "sent"
    failed = "failed"
    #: not sent: the account was disabled, or activated, in the meantime
    cancelled = "cancelled"


class AccountMessage(Base):
    """An email about an account, queued in the transaction that decides it and sent by
    the ``dispatch_account_mail`` job. Holds no token: the link's token is minted when
    the email is sent, and only its hash is stored (``AccountToken``)."""

    __tablename__ = "account_messages"
    __table_args__ = (
        sa.Index("ix_account_messages_status_next_attempt_dt", "status", "next_attempt_dt"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the account it is about (and sent to)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: which email
    kind: Mapped[AccountMail] = mapped_column(string_enum(AccountMail, 24))
    #: where the message is
    status: Mapped[AccountMessageStatus] = mapped_column(
        string_enum(AccountMessageStatus, 16), default=AccountMessageStatus.queued)
    #: sending attempts started
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    #: not to be claimed before this
    next_attempt_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: while ``sending``: when the claim lapses
    lease_expires_dt: Mapped[dt.datetime | None]
    #: language of the email
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    #: ``report_decided``: the report it tells about
    report_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"))
    #: when it was queued
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the provider took it
    sent_dt: Mapped[dt.datetime | None]
    #: the latest failure, without personal data
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
