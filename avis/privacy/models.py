"""What privacy keeps after an erasure: the erased addresses, as salted hashes."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum


class ErasureReason(enum.StrEnum):
    #: the person asked staff (admin screen, ``avis gdpr erase``)
    request = "request"
    #: the retention period ended
    retention = "retention"
    #: the person erased their data themselves, from a survey link
    self_service = "self_service"


class ErasedAddress(Base):
    """An address whose trainee was erased: a later import of it is refused and it is
    never written to, until staff re-admit it. Only a keyed hash is kept (see
    ``avis.privacy.erasure.address_digest``), so the table names nobody."""

    __tablename__ = "erased_addresses"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HMAC-SHA256 of the normalised address, keyed by ERASURE_KEY (else from SECRET_KEY)
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: why it was erased (the latest erasure's reason)
    reason: Mapped[ErasureReason] = mapped_column(string_enum(ErasureReason, 16))
    #: when it was (last) erased
    erased_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: the staff account that erased it; None for the retention job, the command line and
    #: the person themselves. Not a foreign key: the record outlives the account.
    erased_by_id: Mapped[int | None]
    #: when staff allowed the address to be imported again; None while it is refused
    readmitted_dt: Mapped[dt.datetime | None]
    #: who did (not a foreign key, as above); None from the command line
    readmitted_by_id: Mapped[int | None]

    @property
    def is_refused(self) -> bool:
        return self.readmitted_dt is None

    def __repr__(self) -> str:
        return f"<ErasedAddress {self.id} {self.reason}>"
