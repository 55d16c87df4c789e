"""Moderation's periodic jobs: what moderation takes off leaves the open-data files
within a minute, not at the next daily export."""

from __future__ import annotations

from flask import Flask

from avis.accounts.models import Account
from avis.db import db
from avis.moderation import jobs, operations
from avis.opendata.export import export_open_data
from avis.opendata.files import data_file_name, open_data_folder
from tests.moderation.conftest import Queue


def in_open_data(text: str) -> bool:
    return text in (open_data_folder() / data_file_name("csv")).read_text(encoding="utf-8-sig")


def test_a_withdrawal_rewrites_the_open_data_files(app: Flask, queue: Queue) -> None:
    text = "Commentaire numéro 0 à modérer"
    with app.app_context():
        moderator = db.session.get(Account, queue.moderator.id)
        assert jobs.retract_from_open_data() == {"exported": 0}  # no files yet
        operations.publish(queue.pending[0], "positive", by=moderator)
        db.session.commit()
        export_open_data()
        published = in_open_data(text)
        nothing_removed = jobs.retract_from_open_data()

        operations.withdraw(queue.pending[0], "personal_data", by=moderator)
        db.session.commit()
        still_there = in_open_data(text)
        rewritten = jobs.retract_from_open_data()
        gone = not in_open_data(text)

    assert (published, nothing_removed, still_there) == (True, {"exported": 0}, True)
    assert rewritten["exported"] == 1
    assert gone
