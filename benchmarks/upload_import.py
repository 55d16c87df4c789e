"""Benchmark: a trainee file uploaded in the back office, then imported by the job.

WARNING: this migrates and writes into whatever database --database-url points to. Use a
scratch database.

Steps:
1. generate a deterministic France Travail file of --rows rows (benchmarks/pe_file.py);
2. an admin uploads it (``store_upload``: the copy into the instance folder, the hash and
   encoding scan, the header and first-row checks — what the web request does after
   Werkzeug has received the body): wall time;
3. the job ``import_uploads`` imports it: wall time, rows/s;
4. a region account uploads the same file again and the job imports it (rows of other
   régions rejected by the région's screen, the rest unchanged): wall time, rows/s.

    .venv/bin/python benchmarks/upload_import.py --rows 50000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pe_file import write_pe_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()

    from werkzeug.datastructures import FileStorage

    from avis import create_app
    from avis.accounts import operations as accounts
    from avis.catalog.imports.models import ImportRun
    from avis.db import db
    from avis.migrations import upgrade
    from avis.monitoring import uploads

    upgrade(args.database_url)
    with tempfile.TemporaryDirectory(prefix="avis-upload-bench-") as folder:
        path = Path(folder) / "export.txt"
        facts = write_pe_file(path, args.rows)
        megabytes = path.stat().st_size / 1e6
        app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench"},
                         instance_path=Path(folder) / "instance")
        print(f"{args.rows:,} rows, {megabytes:.1f} MB, {facts['bad_total']:,} bad rows, "
              f"{app.config['IMPORT_CHUNK_SIZE']:,} rows a chunk, "
              f"{args.database_url.split(':')[0]}")
        with app.app_context():
            stamp = int(time.time())
            for label, scope in (
                    ("admin (first import)", accounts.AccountScope.build("admin")),
                    ("region 52 (same file)", accounts.AccountScope.build("region",
                                                                          region="52"))):
                account = accounts.create(f"bench-{stamp}-{scope.role}@example.org", scope,
                                          password="Chouette-Velo-Rouge-92", actor_role="cli")
                db.session.commit()
                started = time.perf_counter()
                with path.open("rb") as handle:
                    run = uploads.store_upload(FileStorage(handle, filename="export.txt"),
                                               account=account, format_name=None,
                                               campaign="bench")
                db.session.commit()
                stored = time.perf_counter() - started
                started = time.perf_counter()
                summary = uploads.import_uploads()
                imported = time.perf_counter() - started
                run = db.session.get(ImportRun, run.id)
                print(f"{label}: upload checks {stored:.2f} s; import {imported:.1f} s "
                      f"({args.rows / imported:,.0f} rows/s) — {summary}; read {run.rows_read:,}, "
                      f"imported {run.imported:,}, updated {run.updated:,}, "
                      f"unchanged {run.unchanged:,}, rejected {run.rejected:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
