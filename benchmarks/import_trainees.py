"""Benchmark: import a large France Travail ("pe") trainee file.

WARNING: this imports into whatever database AVIS_DATABASE_URL (or --database-url)
points to, after migrating it with `avis db upgrade`. Use a scratch database.

Steps:
1. generate a deterministic pe file of --rows rows (benchmarks/pe_file.py; ~5 % bad
   rows, ~30 % rows whose delivering SIRET is empty) in a temporary directory;
2. `avis db upgrade`, then `avis import trainees FILE --format pe --campaign bench` as
   a subprocess: wall time, rows/s, peak RSS of the process tree;
3. the same import again (a re-import must change nothing): same measures;
4. on PostgreSQL, the floor: COPY of the raw file into a TEMP table of 38 text columns;
5. a table of the targets with PASS/MISS.

    .venv/bin/python benchmarks/import_trainees.py --rows 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

--skip-import only generates the file and measures the COPY floor (nothing is written
to the database but a TEMP table). Exit status: 0 when every measured target passes,
1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pe_file import COLUMNS, write_pe_file

#: Issue 16: the import's whole command (search index included) against the COPY floor.
MAX_COPY_RATIO = 5.0
MAX_REIMPORT_COPY_RATIO = 2.5
MAX_RSS_MB = 600
POLL_S = 0.05
COPY_BLOCK = 1 << 20


@dataclass
class Run:
    """One measured subprocess."""

    label: str
    returncode: int
    wall_s: float
    peak_rss_mb: float
    #: proportional set size summed over the tree: shared library pages counted once
    peak_pss_mb: float


def libpq_conninfo(url: str) -> str:
    """`postgresql+psycopg://u@h/db` (SQLAlchemy) -> `postgresql://u@h/db` (libpq)."""
    return re.sub(r"^postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", "postgresql://", url, count=1)


def is_postgresql(url: str | None) -> bool:
    return bool(url) and re.match(r"^postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", url) is not None


def _tree_memory(process: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) summed over the process tree. The import reads the file in a child
    process: RSS counts the libraries both processes map twice, PSS once."""
    rss = pss = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            info = member.memory_full_info()
            rss += info.rss
            pss += info.pss
    return rss, pss


def run_measured(label: str, command: list[str], env: dict[str, str]) -> Run:
    """Run `command`, its output passed through; wall time and peak RSS of its tree.

    Peak RSS is the larger of the polled sum over the process tree (every 50 ms) and the
    kernel's high-water mark. The latter is read with os.wait4 for this child alone:
    getrusage(RUSAGE_CHILDREN) is the maximum over every child this script ever waited
    for, so a re-import would inherit the first import's peak.
    """
    print(f"$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env)
    watched = psutil.Process(child.pid)
    peak = peak_pss = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        rss, pss = _tree_memory(watched)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(POLL_S)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux
    peak = max(peak, usage.ru_maxrss * 1024)
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(
        f"  [{label}] exit {child.returncode}, wall {wall:.2f} s, peak RSS "
        f"{peak / 2**20:.0f} MB, peak PSS {peak_pss / 2**20:.0f} MB "
        f"(all children so far: {children_max / 2**20:.0f} MB)",
        flush=True,
    )
    return Run(label, child.returncode, wall, peak / 2**20, peak_pss / 2**20)


def copy_floor(path: Path, url: str) -> tuple[float, int]:
    """Seconds and rows for COPY of the raw file into a TEMP table of text columns."""
    import psycopg

    columns = ", ".join(f"{name} text" for name in COLUMNS)
    with psycopg.connect(libpq_conninfo(url), client_encoding="utf8") as conn:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE pe_copy_floor ({columns})")
            started = time.perf_counter()
            with (
                cur.copy(
                    "COPY pe_copy_floor FROM STDIN "
                    "WITH (FORMAT csv, DELIMITER '|', HEADER true, NULL 'NULL')"
                ) as copy,
                path.open("rb") as source,
            ):
                while block := source.read(COPY_BLOCK):
                    copy.write(block)
            conn.commit()
            elapsed = time.perf_counter() - started
            cur.execute("SELECT count(*) FROM pe_copy_floor")
            (count,) = cur.fetchone()
        conn.rollback()
    return elapsed, count


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AVIS_DATABASE_URL"),
        help="SQLAlchemy URL of a SCRATCH database (default: $AVIS_DATABASE_URL)",
    )
    parser.add_argument(
        "--skip-import",
        action="store_true",
        help="only generate the file and measure the COPY floor",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if not args.skip_import and not args.database_url:
        parser.error("--database-url or AVIS_DATABASE_URL is required (use a scratch database)")

    avis = Path(sys.executable).parent / "avis"
    if not args.skip_import and not avis.exists():
        print(f"error: {avis} not found: install the package (pip install -e .)", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="avis-bench-"))
    path = workdir / f"pe_bench_{args.rows}.txt"
    try:
        started = time.perf_counter()
        counts = write_pe_file(path, args.rows, args.seed)
        generation = time.perf_counter() - started
        print(
            f"generated {path} in {generation:.2f} s: {counts['rows']:,} rows, "
            f"{counts['bytes'] / 2**20:.1f} MB, {counts['bodies']:,} bodies, "
            f"{counts['sessions']:,} sessions, {counts['bad_total']:,} bad rows "
            f"({', '.join(f'{k} {v}' for k, v in counts['bad_rows'].items())}), "
            f"{counts['null_delivering_rows']:,} rows with an empty delivering SIRET",
            flush=True,
        )

        runs: list[Run] = []
        if not args.skip_import:
            env = {**os.environ, "AVIS_DATABASE_URL": args.database_url}
            upgrade = subprocess.run([str(avis), "db", "upgrade"], env=env, check=False)
            if upgrade.returncode:
                print(f"error: avis db upgrade exited {upgrade.returncode}", file=sys.stderr)
                return 2
            command = [
                str(avis),
                "import",
                "trainees",
                str(path),
                "--format",
                "pe",
                "--campaign",
                "bench",
            ]
            print(f"expected: {counts['bad_total']:,} rejected rows", flush=True)
            for label in ("first import", "re-import"):
                run = run_measured(label, command, env)
                runs.append(run)
                print(
                    f"{label}: {args.rows / run.wall_s:,.0f} rows/s, wall {run.wall_s:.2f} s, "
                    f"peak RSS {run.peak_rss_mb:.0f} MB, peak PSS {run.peak_pss_mb:.0f} MB",
                    flush=True,
                )
                if run.returncode:
                    print(f"error: {label} exited {run.returncode}", file=sys.stderr)
                    return 2

        copy_s = None
        if is_postgresql(args.database_url):
            copy_s, copied = copy_floor(path, args.database_url)
            print(
                f"COPY floor: {copy_s:.2f} s, {copied / copy_s:,.0f} rows/s ({copied:,} rows)",
                flush=True,
            )
            for run in runs:
                print(f"{run.label} / COPY: {run.wall_s / copy_s:.1f}x", flush=True)
        else:
            print("COPY floor: n/a (not PostgreSQL)", flush=True)

        # (target, measured value or None, passed or None when not measured)
        targets: list[tuple[str, str | None, bool | None]] = []
        for label, i, maximum in (
            ("first import", 0, MAX_COPY_RATIO),
            ("re-import", 1, MAX_REIMPORT_COPY_RATIO),
        ):
            target = f"{label} <= {maximum:g}x COPY floor"
            if i < len(runs) and copy_s:
                ratio = runs[i].wall_s / copy_s
                targets.append((target, f"{ratio:.1f}x", ratio <= maximum))
            else:
                targets.append((target, None, None))
            if i < len(runs):
                targets.append((f"({label} rows/s, for information)",
                                f"{args.rows / runs[i].wall_s:,.0f}", None))
        target = f"peak RSS < {MAX_RSS_MB} MB"
        if runs:
            peak = max(run.peak_rss_mb for run in runs)
            targets.append((target, f"{peak:.0f} MB", peak < MAX_RSS_MB))
            pss = max(run.peak_pss_mb for run in runs)
            targets.append(("(peak PSS, for information)", f"{pss:.0f} MB", None))
        else:
            targets.append((target, None, None))

        print(f"\ntargets ({args.rows:,} rows)")
        for target, value, ok in targets:
            print(f"  {target:<36} {value or '-':>12}  {_verdict(ok)}")
        return 1 if any(ok is False for _, _, ok in targets) else 0
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
