"""Where the open-data files live and what is known of them.

The scheduled export writes ``avis-avis.csv``, ``.xlsx``, ``.parquet`` and the
dictionary ``avis-avis-dictionnaire.csv`` into ``<instance>/opendata/``, then records
each data file's row count, size and time of generation in ``manifest.json`` there.
The page trusts a manifest entry only while the file still has the recorded size:
a file replaced by hand or by an export elsewhere is shown without a row count, with
its own time. Pure Python: the web page must not load Arrow.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

#: Base name of the files: ``avis-avis.csv``, ``avis-avis.xlsx``, ``avis-avis.parquet``.
BASE_NAME = "avis-avis"
#: The formats, in the order the page lists them.
FORMATS = ("csv", "xlsx", "parquet")
MIMETYPES = {
    "csv": "text/csv",  # Flask adds "; charset=utf-8"
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # Registered with IANA in 2024; Python's mimetypes does not know it yet.
    "parquet": "application/vnd.apache.parquet",
}
MANIFEST_NAME = "manifest.json"


def data_file_name(format_name: str, base_name: str = BASE_NAME) -> str:
    return f"{base_name}.{format_name}"


def dictionary_file_name(base_name: str = BASE_NAME) -> str:
    return f"{base_name}-dictionnaire.csv"


#: The only files the download route serves.
PUBLISHED_NAMES = (*(data_file_name(f) for f in FORMATS), dictionary_file_name())


def open_data_folder() -> Path:
    """``<instance>/opendata``, where the scheduled export writes (needs an app)."""
    return Path(current_app.instance_path) / "opendata"


@dataclass(frozen=True)
class PublishedFile:
    name: str
    #: csv, xlsx or parquet
    format: str
    #: True for the data dictionary
    is_dictionary: bool
    size: int
    #: when the export read the data (UTC), or the file's time when unrecorded
    generated_dt: dt.datetime
    #: data rows, when the manifest vouches for them
    rows: int | None


def published_files(folder: Path) -> list[PublishedFile]:
    """The published files present in ``folder``, data files first."""
    manifest = read_manifest(folder)
    found = []
    for name in PUBLISHED_NAMES:
        try:
            stat = (folder / name).stat()
        except OSError:
            continue
        entry = manifest.get(name)
        if not isinstance(entry, dict) or entry.get("size") != stat.st_size:
            entry = {}
        try:
            generated = dt.datetime.fromisoformat(entry["generated_dt"])
        except (KeyError, TypeError, ValueError):
            generated = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        rows = entry.get("rows")
        found.append(PublishedFile(
            name=name, format=name.rsplit(".", 1)[1], is_dictionary=name == dictionary_file_name(),
            size=stat.st_size, generated_dt=generated,
            rows=rows if isinstance(rows, int) else None))
    return found


def read_manifest(folder: Path) -> dict[str, object]:
    try:
        found = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def record_in_manifest(folder: Path, entries: dict[str, dict[str, object]]) -> None:
    """Add or replace ``entries`` (file name → rows, size, generated_dt) in the manifest,
    atomically (a reader never sees half a file)."""
    manifest = read_manifest(folder)
    manifest.update(entries)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{MANIFEST_NAME}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=1, sort_keys=True)
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / MANIFEST_NAME)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["BASE_NAME", "FORMATS", "MIMETYPES", "PUBLISHED_NAMES", "PublishedFile",
           "data_file_name", "dictionary_file_name", "open_data_folder", "published_files",
           "read_manifest", "record_in_manifest"]
