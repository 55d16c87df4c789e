"""``avis export reviews`` and the daily ``export_open_data`` job."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from flask.testing import FlaskCliRunner

from avis.scheduler.jobs import BY_ID, DAY
from avis.scheduler.runner import run_job
from tests.opendata.conftest import OpenWorld
from tests.opendata.readback import (
    as_in_csv,
    expected_rows,
    read_csv,
    read_parquet,
    read_xlsx,
    same_rows,
)

SUMMARY = re.compile(r"^(?P<files>\S+) : (?P<rows>\d+) avis exportés \((?P<size>\d+,\d) Mo\), "
                     r"dictionnaire dans (?P<dictionary>\S+), en \d+,\d s$")


def summary_of(output: str) -> re.Match[str]:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output  # no progress bar when not on a terminal
    found = SUMMARY.match(lines[0])
    assert found, lines[0]
    return found


def test_default_is_csv_in_the_instance_folder(runner: FlaskCliRunner, open_world: OpenWorld,
                                               instance_path: Path) -> None:
    result = runner.invoke(args=["export", "reviews"])

    assert result.exit_code == 0, result.output
    summary = summary_of(result.output)
    folder = instance_path / "opendata"
    assert summary["files"] == "avis-avis.csv"
    assert summary["dictionary"] == "avis-avis-dictionnaire.csv"
    assert int(summary["rows"]) == len(expected_rows()) == 18
    assert same_rows(read_csv(folder / "avis-avis.csv"),
                     [as_in_csv(r) for r in expected_rows()])
    assert (folder / "avis-avis-dictionnaire.csv").read_bytes().startswith(
        b"\xef\xbb\xbfcolonne;type;description;type_en;description_en\r\n")
    # The page will show the row count of this file.
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["avis-avis.csv"]["rows"] == 18


@pytest.mark.parametrize("format_name", ["csv", "xlsx", "parquet"])
def test_format_and_out(runner: FlaskCliRunner, open_world: OpenWorld, tmp_path: Path,
                        format_name: str) -> None:
    out = tmp_path / f"export-{format_name}.bin"
    result = runner.invoke(args=["export", "reviews", "--format", format_name,
                                 "--out", str(out)])

    assert result.exit_code == 0, result.output
    summary = summary_of(result.output)
    assert summary["files"] == out.name
    assert summary["dictionary"] == f"export-{format_name}-dictionnaire.csv"
    read = {"csv": read_csv, "parquet": read_parquet,
            "xlsx": lambda path: read_xlsx(path)[0]}[format_name]
    assert len(read(out)) == 18
    assert not (tmp_path / "instance" / "opendata").exists()


def test_the_format_follows_the_out_suffix(runner: FlaskCliRunner, open_world: OpenWorld,
                                           tmp_path: Path) -> None:
    out = tmp_path / "avis.parquet"
    result = runner.invoke(args=["export", "reviews", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 18


@pytest.mark.parametrize("where", ["missing/avis.csv", "a-file/avis.csv"])
def test_a_bad_path_exits_2_leaving_nothing(runner: FlaskCliRunner, open_world: OpenWorld,
                                            tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(args=["export", "reviews", "--out", str(tmp_path / where)])

    assert result.exit_code == 2
    assert result.output.startswith(f"Erreur : {tmp_path / where} ne peut pas être écrit : ")
    assert ("n’existe pas" if where.startswith("missing") else "n’est pas un dossier") \
        in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a-file").read_text() == "not a folder"


def test_a_folder_as_out_exits_2(runner: FlaskCliRunner, open_world: OpenWorld,
                                 tmp_path: Path) -> None:
    result = runner.invoke(args=["export", "reviews", "--out", str(tmp_path)])

    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_an_unknown_format_exits_2(runner: FlaskCliRunner, app_context: None) -> None:
    result = runner.invoke(args=["export", "reviews", "--format", "ods"])

    assert result.exit_code == 2
    assert "'ods' is not one of 'csv', 'xlsx', 'parquet'" in result.output


def test_the_daily_job_writes_every_file(open_world: OpenWorld, instance_path: Path) -> None:
    job = BY_ID["export_open_data"]
    assert job.every == DAY

    result = run_job(job)

    assert result.outcome == "done", result.summary
    assert result.summary == {"rows": 18, "files": 4}
    folder = instance_path / "opendata"
    assert sorted(p.name for p in folder.iterdir()) == [
        "avis-avis-dictionnaire.csv", "avis-avis.csv", "avis-avis.parquet", "avis-avis.xlsx",
        "manifest.json"]
    expected = expected_rows()
    assert same_rows(read_parquet(folder / "avis-avis.parquet"), expected)
    assert len(read_xlsx(folder / "avis-avis.xlsx")[0]) == len(read_csv(folder / "avis-avis.csv"))
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("avis-avis.csv", "avis-avis.xlsx", "avis-avis.parquet"):
        assert manifest[name]["rows"] == 18
        assert manifest[name]["size"] == (folder / name).stat().st_size
    assert "rows" not in manifest["avis-avis-dictionnaire.csv"]
    # A second tick of the same day does nothing; the next day's writes again.
    assert run_job(job).outcome == "skipped"
