"""The search index of the public lookup: derived from the catalogue, rebuilt by
``avis.public.search.rebuild_index``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis.db import Base

#: Compared byte by byte, so that a prefix is a range of the index ("C" collation on
#: PostgreSQL; SQLite's default BINARY already is).
_BYTEWISE_TEXT = sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")


class SearchTerm(Base):
    """One normalised word (or filter tag) that finds a training body.

    Words come from the body's name and SIRET, its courses' titles and formacodes, and
    its places (cities, postcodes); tags (``dep:44``, ``fin:2``) serve the filters. A
    query word matches every term it begins (a range on the primary key's index), so a
    search reads a few index ranges whatever the number of bodies.
    """

    __tablename__ = "search_terms"

    #: lower-case, unaccented word, or a ``kind:value`` filter tag
    term: Mapped[str] = mapped_column(_BYTEWISE_TEXT, primary_key=True)
    #: the body it finds
    training_body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_bodies.id", ondelete="CASCADE"), primary_key=True, index=True)

    def __repr__(self) -> str:
        return f"<SearchTerm {self.term!r} → {self.training_body_id}>"
