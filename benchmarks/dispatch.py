"""Benchmark: create and send N invitations through the fake SendGrid on loopback.

WARNING: this EMPTIES the database AVIS_DATABASE_URL (or --database-url) points to,
after migrating it. Use a scratch database.

Steps:
1. `avis db upgrade`; every avis table emptied; N trainees enrolled in 40 sessions that
   ended two days ago (written set-wise, not measured);
2. invitation creation (`create_end_of_training_invitations`, as the job runs it) in a
   subprocess: wall time, peak RSS;
3. `avis mail send` in a subprocess against the fake SendGrid (a thread of this script,
   127.0.0.1): every message claimed, its token minted, sent in requests of
   --batch-size personalizations, its outcome recorded. Wall time, peak RSS;
4. checks: every invitation received exactly once by the fake server, all `sent`;
5. a table of the targets with PASS/MISS.

    .venv/bin/python benchmarks/dispatch.py --invitations 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_trainees import run_measured

EMAILS_PER_S = 5_000
MAX_RSS_MB = 500
BATCH = 1000

CREATE = ("from avis import create_app\n"
          "from avis.surveys.jobs import create_end_of_training_invitations\n"
          "with create_app().app_context():\n"
          "    print(create_end_of_training_invitations())\n")


def prepare(url: str, count: int) -> None:
    import sqlalchemy as sa

    from avis import clock, create_app
    from avis.db import db
    from avis.models import Base
    from tests.surveys.fixtures import seed_enrolments

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(table.delete())
        seed_enrolments(count, clock.today() - dt.timedelta(days=2), sessions=40)
        db.engine.dispose()


def verify(url: str, count: int, received: dict[str, int]) -> tuple[int, int]:
    """(duplicates at the provider, messages not sent)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        not_sent = connection.scalar(sa.text(
            "SELECT count(*) FROM outbox_messages WHERE status <> 'sent'"))
    engine.dispose()
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missing = count - len(received)
    return duplicates, int(not_sent or 0) + max(missing, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--database-url", default=os.environ.get("AVIS_DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url (a scratch database: it is emptied)")
    from tests.mail.fake_sendgrid import FAKE_API_KEY, FakeSendGrid

    avis = str(Path(sys.executable).with_name("avis"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=args.database_url, AVIS_SECRET_KEY="bench",
               AVIS_MAIL_BACKEND="sendgrid", AVIS_SENDGRID_API_KEY=FAKE_API_KEY,
               AVIS_SEND_BATCH_SIZE=str(args.batch_size), NO_PROXY="127.0.0.1,localhost")
    upgrade = run_measured("migrate", [avis, "db", "upgrade"], env)
    if upgrade.returncode:
        return 2
    print(f"seeding {args.invitations} trainees…", flush=True)
    prepare(args.database_url, args.invitations)
    with FakeSendGrid(api_key=FAKE_API_KEY) as server:
        env["AVIS_SENDGRID_HOST"] = server.url
        create = run_measured("create", [sys.executable, "-c", CREATE], env)
        send = run_measured("dispatch", [avis, "mail", "send"], env)
        received = dict(server.count_by_invitation())
        requests = server.request_count
    if create.returncode or send.returncode:
        return 2
    duplicates, not_sent = verify(args.database_url, args.invitations, received)
    n = args.invitations
    end_to_end = n / (create.wall_s + send.wall_s)
    rss = max(create.peak_rss_mb, send.peak_rss_mb)
    rows = [
        ("invitations created", f"{n / create.wall_s:,.0f}/s ({create.wall_s:.1f} s)", None),
        ("emails dispatched", f"{n / send.wall_s:,.0f}/s ({send.wall_s:.1f} s, "
                              f"{requests} requests)", None),
        ("end to end", f"{end_to_end:,.0f} emails/s", end_to_end >= EMAILS_PER_S),
        ("peak RSS", f"{rss:.0f} MB", rss < MAX_RSS_MB),
        ("duplicates", str(duplicates), duplicates == 0),
        ("not sent", str(not_sent), not_sent == 0),
    ]
    print(f"\n{'measure':<22} {'value':<40} target")
    for label, value, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{label:<22} {value:<40} {verdict}")
    return 0 if all(ok is not False for _l, _v, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
