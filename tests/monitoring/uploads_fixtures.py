"""Helpers of the upload tests: posting a file through the back office, running the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.accounts.fixtures import Browser, csrf_token

NEW = "/admin/imports/nouveau"


def upload(client: Browser, path: Path, name: str | None = None, **fields: Any) -> TestResponse:
    """Post ``path`` with the upload form (under ``name`` when given)."""
    token = csrf_token(client.get(NEW).get_data(as_text=True))
    # Encoded here, in memory: the test client would spool a large body to a temporary
    # file that nobody closes when the application refuses it unread (413).
    with path.open("rb") as handle:
        boundary, body = encode_multipart({
            "csrf_token": token, **fields,
            "file": FileStorage(handle, filename=name or path.name,
                                content_type="application/octet-stream")})
    return client.client.post(NEW, data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")


def run_id_of(response: TestResponse) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/admin/imports/")
    return int(location.rsplit("/", 1)[1])
