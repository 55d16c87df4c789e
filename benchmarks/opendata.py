"""Benchmark: the open-data export of ~1,000,000 reviews: Parquet (target 30 s), CSV, and
XLSX (target: at most 3 times the CSV's time, measured in the same run).

Read-only: it uses the data set that benchmarks/scores.py loads (by default the
PostgreSQL database `avis_bench` on 127.0.0.1: 20,000 training bodies, ~1,000,000
answers) and never writes to the database. Run benchmarks/scores.py first.

Steps:
1. the number of rows an export would write (`count_reviews()`, in process; it also
   warms the database's cache); refuse a database with fewer than 100,000 answers;
2. `avis export reviews --format parquet --out TMP/avis-avis.parquet` as a subprocess,
   as an operator runs it: wall time, rows/s, peak RSS of the process tree
   (import_trainees.run_measured); then the file is checked: its row count, its columns
   (those of the dictionary, nothing else), a month-only `mois` column;
3. the same with `--format csv` (rows checked by counting lines of pyarrow's reader);
4. the same with `--format xlsx` (skipped with --no-xlsx): rows counted in the sheets'
   XML, and the first 1,000 read back with openpyxl: the header, then each column's
   type (text, integers, decimals as numbers, booleans), no formula;
5. the floors, in this process, on the exported rows read back from the Parquet file
   (no database, no sort, no join, no neutralising; the command's ~1.7 s start is not
   in them): pyarrow's own Parquet writer and CSV writer, and the sheet writer of the
   XLSX (`avis.opendata.xlsx.StreamingWorkbook`), chunk after chunk like the export;
   each command's time over its floor is what reading PostgreSQL, the catalogue join,
   the sort and the starting process add (--no-floors leaves them out);
6. a table of the measures: targets with PASS/MISS (benchmarks/survey_load.py's
   print_targets), the ratios to the floors.

    .venv/bin/python benchmarks/opendata.py
    .venv/bin/python benchmarks/opendata.py --no-xlsx --database-url postgresql+psycopg://…

Measured on 2 cores shared with other work, 966,559 rows, wall time of the command (its
start included), 2026-12-06. Before (openpyxl's write-only mode): Parquet 19.1 s, CSV
16.3 s, XLSX 249.2 s (15.3 times the CSV; 206-231 s on 2026-11-26), 112 MB, peak RSS
351-365 MB (a test run shared the machine during part of the XLSX). After (the sheet
XML built in Arrow, avis/opendata/xlsx.py), two runs: Parquet 12.9-19.2 s, CSV
13.3-13.7 s, XLSX 20.3-24.2 s, 127 MB: 1.53-1.77 times the CSV (PASS); peak RSS
345-356 MB, the XLSX's 382-386 MB. Floors: pyarrow's Parquet writer 0.6-0.7 s, its CSV
writer 0.4 s, the sheet writer 8.4-8.8 s: the rest of each export is reading
PostgreSQL, the catalogue join and the sort.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_trainees import Run, run_measured
from survey_load import print_targets

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/avis_bench"
PARQUET_MAX_S = 30.0
#: The XLSX export's time at most this many times the CSV export's (issue 16).
XLSX_MAX_TIMES_CSV = 3.0
MIN_ANSWERS = 100_000
#: XLSX rows read back with openpyxl (all of them would take minutes).
XLSX_SAMPLE = 1_000


def expected_rows(url: str) -> tuple[int, int]:
    """(answers in the database, rows an export would write now)."""
    import sqlalchemy as sa

    from avis import create_app
    from avis.db import db
    from avis.opendata.export import count_reviews
    from avis.surveys.models.answers import Answer

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) or 0
        rows = count_reviews() if answers >= MIN_ANSWERS else 0
        db.session.rollback()
        db.engine.dispose()
    return answers, rows


def check_parquet(path: Path) -> tuple[int, str]:
    """(rows, problem or "")."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from avis.opendata.dictionary import COLUMNS

    metadata = pq.ParquetFile(path).metadata
    names = pq.read_schema(path).names
    if names != [c.name for c in COLUMNS]:
        return metadata.num_rows, f"columns differ from the dictionary: {names}"
    months = pq.read_table(path, columns=["mois"])["mois"]
    if not pc.all(pc.match_substring_regex(months, r"^\d{4}-\d{2}$")).as_py():
        return metadata.num_rows, "a `mois` value is not YYYY-MM"
    return metadata.num_rows, ""


def check_csv(path: Path) -> tuple[int, str]:
    import pyarrow.csv as pa_csv

    with path.open("rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            return 0, "no UTF-8 BOM"
    reader = pa_csv.open_csv(path, parse_options=pa_csv.ParseOptions(
        delimiter=";", newlines_in_values=True), convert_options=pa_csv.ConvertOptions(
        column_types={"mois": "string"}))
    rows = sum(batch.num_rows for batch in reader)
    return rows, ""


def check_xlsx(path: Path) -> tuple[int, str]:
    """Rows counted in the sheets' XML (openpyxl would take minutes to read them): every
    sheet but the last, the dictionary, less its header; the first rows read back with
    openpyxl, each cell of the type of its column."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        sheets = sorted((n for n in archive.namelist() if re.fullmatch(
            r"xl/worksheets/sheet\d+\.xml", n)), key=lambda n: int(re.sub(r"\D", "", n)))
        rows = 0
        for name in sheets[:-1]:
            tail = b""
            with archive.open(name) as sheet:
                while block := sheet.read(1 << 20):
                    rows += (tail + block).count(b"<row ") - tail.count(b"<row ")
                    tail = block[-4:]
            rows -= 1
    if not sheets:
        return rows, "no sheet"
    return rows, check_xlsx_types(path)


def check_xlsx_types(path: Path) -> str:
    """The header, and the first ``XLSX_SAMPLE`` rows' cells of their column's type."""
    import itertools

    import openpyxl

    from avis.opendata.dictionary import COLUMNS

    expected = {"text": str, "month": str, "list": str, "mark": int, "decimal": float,
                "boolean": bool}
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        cells = book["avis"].iter_rows(max_row=XLSX_SAMPLE + 1)
        header = [cell.value for cell in next(cells)]
        if header != [c.name for c in COLUMNS]:
            return f"header differs from the dictionary: {header}"
        for row in itertools.islice(cells, XLSX_SAMPLE):
            for column, cell in zip(COLUMNS, row, strict=False):
                if cell.value is None:
                    continue
                if cell.data_type == "f":
                    return f"a formula in {column.name}: {cell.value!r}"
                kind = expected[column.type]
                # A decimal with nothing after the point may be read back as an int.
                if not (isinstance(cell.value, kind) or (kind is float and type(
                        cell.value) is int)) or (kind is int and isinstance(cell.value, bool)):
                    return f"{column.name}: {cell.value!r} is not {kind.__name__}"
    finally:
        book.close()
    return ""


CHECKS = {"parquet": check_parquet, "csv": check_csv, "xlsx": check_xlsx}


@dataclass
class Floors:
    """Seconds of the bare writers on the exported rows, in this process."""

    rows: int
    parquet_s: float
    csv_s: float
    xlsx_s: float


def measure_floors(parquet: Path, folder: Path) -> Floors:
    """The exported rows (read back from ``parquet``) written by the bare writers, in
    chunks of the export's size: pyarrow's Parquet writer (zstd), its CSV writer, and
    the XLSX sheet writer (``StreamingWorkbook``). The export's own files are the
    measure; these only say what writing costs by itself."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from avis.opendata.export import CHUNK_SIZE
    from avis.opendata.xlsx import StreamingWorkbook, text_table

    table = pq.read_table(parquet)
    chunks = [table.slice(offset, CHUNK_SIZE)
              for offset in range(0, table.num_rows, CHUNK_SIZE)]
    out = folder / "floor"

    started = time.perf_counter()
    with pq.ParquetWriter(out, table.schema, compression="zstd") as writer:
        for chunk in chunks:
            writer.write_table(chunk)
    parquet_s = time.perf_counter() - started

    started = time.perf_counter()
    with out.open("wb") as handle, pa_csv.CSVWriter(handle, table.schema, write_options=(
            pa_csv.WriteOptions(delimiter=";", eol="\r\n"))) as writer:
        for chunk in chunks:
            writer.write_table(chunk)
    csv_s = time.perf_counter() - started

    started = time.perf_counter()
    book = StreamingWorkbook(out)
    book.start_sheet("avis", freeze_header=True)
    book.append(text_table([table.column_names]))
    for chunk in chunks:
        book.append(chunk)
    book.close()
    xlsx_s = time.perf_counter() - started

    out.unlink()
    return Floors(table.num_rows, parquet_s, csv_s, xlsx_s)


def verdicts(runs: dict[str, tuple[Run, int, str, int]], expected: int,
             floors: Floors | None) -> list[tuple[str, str, bool | None, str]]:
    """The rows of the table: (measure, value, passed or None, target)."""
    table: list[tuple[str, str, bool | None, str]] = []
    floor_s = {"parquet": floors.parquet_s, "csv": floors.csv_s,
               "xlsx": floors.xlsx_s} if floors else {}
    floor_names = {"parquet": "pyarrow's Parquet writer", "csv": "pyarrow's CSV writer",
                   "xlsx": "the sheet writer"}
    for format_name, (run, rows, problem, size) in runs.items():
        ok_rows = rows == expected and not problem
        if format_name == "parquet":
            table.append(("parquet: time", f"{run.wall_s:.1f} s",
                          run.wall_s <= PARQUET_MAX_S, f"<= {PARQUET_MAX_S:.0f} s"))
        else:
            table.append((f"{format_name}: time", f"{run.wall_s:.1f} s", None, ""))
        if format_name == "xlsx" and "csv" in runs:
            csv_s = runs["csv"][0].wall_s
            times = run.wall_s / csv_s
            table.append(("xlsx / csv (same run)",
                          f"x {times:.2f} ({run.wall_s:.1f} s / {csv_s:.1f} s)",
                          times <= XLSX_MAX_TIMES_CSV, f"<= x {XLSX_MAX_TIMES_CSV:.0f}"))
        if format_name in floor_s:
            seconds = floor_s[format_name]
            table.append((f"{format_name} / floor",
                          f"x {run.wall_s / seconds:.1f} (floor {seconds:.2f} s: "
                          f"{floor_names[format_name]} alone)", None, ""))
        table += [
            (f"{format_name}: rate", f"{rows / run.wall_s:,.0f} rows/s, "
                                     f"{size / 1e6:,.1f} MB", None, ""),
            (f"{format_name}: peak RSS", f"{run.peak_rss_mb:.0f} MB", None, ""),
            (f"{format_name}: rows", f"{rows:,} of {expected:,}"
             + (f" — {problem}" if problem else ""), ok_rows, "all, checked"),
        ]
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a database loaded by benchmarks/scores.py (read only here)")
    parser.add_argument("--no-xlsx", action="store_true", help="leave the XLSX export out")
    parser.add_argument("--no-floors", action="store_true",
                        help="leave the bare writers' floors out")
    args = parser.parse_args(argv)

    answers, expected = expected_rows(args.database_url)
    if answers < MIN_ANSWERS:
        print(f"{answers:,} answers in the database: load it with benchmarks/scores.py first",
              file=sys.stderr)
        return 2
    print(f"{answers:,} answers, {expected:,} rows to export", flush=True)

    avis = str(Path(sys.executable).with_name("avis"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=args.database_url, AVIS_SECRET_KEY="bench")
    formats = ["parquet", "csv", *([] if args.no_xlsx else ["xlsx"])]
    runs: dict[str, tuple[Run, int, str, int]] = {}
    floors = None
    with tempfile.TemporaryDirectory(prefix="avis-opendata-") as folder:
        for format_name in formats:
            out = Path(folder) / f"avis-avis.{format_name}"
            run = run_measured(format_name, [avis, "export", "reviews", "--format",
                                             format_name, "--out", str(out)], env)
            if run.returncode:
                return 2
            rows, problem = CHECKS[format_name](out)
            runs[format_name] = (run, rows, problem, out.stat().st_size)
            if format_name != "parquet":
                out.unlink()
        if not args.no_floors:
            print("floors: the same rows written by the bare writers, in this process",
                  flush=True)
            floors = measure_floors(Path(folder) / "avis-avis.parquet", Path(folder))

    return print_targets(verdicts(runs, expected, floors))


if __name__ == "__main__":
    sys.exit(main())
