"""Benchmark: the open-data export of ~1,000,000 reviews, to Parquet (target: 30 s) and CSV.

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
4. with --xlsx, the same with `--format xlsx` (openpyxl's write-only mode: slow, and no
   target);
5. a table of the targets with PASS/MISS.

    .venv/bin/python benchmarks/opendata.py
    .venv/bin/python benchmarks/opendata.py --xlsx --database-url postgresql+psycopg://…

Measured on 2 cores shared with other work (load average 1.5-3), 982,000 rows, wall time
of the command (its start, ~1.7 s, included): Parquet 16-17.5 s (in process 11.6-15.6 s:
the query and its sort by day 3-5 s, rows into Python ~4 s, the catalogue ~1.8 s, Arrow
and the writer the rest), 12 MB, peak RSS ~340 MB (pandas, imported by the import rules
for FUNDER_LABELS, is ~80 MB of it); CSV 16-18.5 s, 270 MB; XLSX 206-231 s, 114 MB.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_trainees import Run, run_measured

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/avis_bench"
PARQUET_MAX_S = 30.0
MIN_ANSWERS = 100_000


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
    sheet but the last, the dictionary, less its header."""
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
    return rows, "" if sheets else "no sheet"


CHECKS = {"parquet": check_parquet, "csv": check_csv, "xlsx": check_xlsx}
SUMMARY = re.compile(r"avis exportés")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a database loaded by benchmarks/scores.py (read only here)")
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
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
    formats = ["parquet", "csv", *(["xlsx"] if args.xlsx else [])]
    runs: dict[str, tuple[Run, int, str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="avis-opendata-") as folder:
        for format_name in formats:
            out = Path(folder) / f"avis-avis.{format_name}"
            run = run_measured(format_name, [avis, "export", "reviews", "--format",
                                             format_name, "--out", str(out)], env)
            if run.returncode:
                return 2
            rows, problem = CHECKS[format_name](out)
            runs[format_name] = (run, rows, problem, out.stat().st_size)
            out.unlink()

    table = []
    for format_name, (run, rows, problem, size) in runs.items():
        ok_rows = rows == expected and not problem
        target = run.wall_s <= PARQUET_MAX_S if format_name == "parquet" else None
        table += [
            (f"{format_name}: time", f"{run.wall_s:.1f} s"
             + (f" (target {PARQUET_MAX_S:.0f} s)" if target is not None else ""), target),
            (f"{format_name}: rate", f"{rows / run.wall_s:,.0f} rows/s, "
                                     f"{size / 1e6:,.1f} MB", None),
            (f"{format_name}: peak RSS", f"{run.peak_rss_mb:.0f} MB", None),
            (f"{format_name}: rows", f"{rows:,} of {expected:,}"
             + (f" — {problem}" if problem else ""), ok_rows),
        ]
    print(f"\n{'measure':<22} {'value':<44} target")
    for label, value, ok in table:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{label:<22} {value:<44} {verdict}")
    return 0 if all(ok is not False for _l, _v, ok in table) else 1


if __name__ == "__main__":
    sys.exit(main())
