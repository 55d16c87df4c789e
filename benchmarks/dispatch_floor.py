"""The floor of the dispatch benchmark: the least a script can do to send the same emails.

A bare script, no avis, no Flask, no ORM: one plain ``SELECT id, email, first_name,
last_name FROM trainees`` (the rows avis invites and emails), then, per chunk of
--batch-size rows, one SendGrid v3 Mail Send body shaped and sized as avis's (per
recipient: ``to`` with the name, the subject, ``custom_args`` with an opaque id, the
14 substitutions with a fresh 43-character token in both links, the two
List-Unsubscribe headers; per request: sender, the same rendered text and HTML content,
category, click tracking off), serialised with ``json.dumps`` and POSTed with the
standard library's ``http.client`` on one kept-alive connection per worker, to the same
fake server, by as many worker threads as avis's dispatch uses (``WORKERS`` in
avis/mail/dispatch.py). A request not answered 202 fails the floor.

What it leaves out is what avis does on top, and is counted against avis: creating the
invitations and queuing their emails, claiming them under a lease, hashing and storing
the tokens, joining the catalogue for each recipient's course, recording the outcomes.
The id in ``custom_args`` is the trainee's (there are no invitations here).

The shared parts (content, sender, subject, the course/body/dates/city values) are
rendered by avis once, before anything is timed, and given in --shape (a JSON file
written by benchmarks/dispatch.py, see ``write_shape`` there): they are constants of
the run, the same bytes in both requests.

    .venv/bin/python benchmarks/dispatch_floor.py --database-url URL --host URL \\
        --api-key KEY --shape shape.json [--batch-size 1000] [--workers 2] [--report FILE]

Prints one JSON line: emails, requests, and the seconds spent reading and in all (from
the SELECT to the last answer; --report writes the latter alone to FILE).
Exit status 0, or 1 when a request was not accepted.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import html
import http.client
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Any

SELECT = ("SELECT id, email, first_name, last_name FROM trainees "
          "WHERE email IS NOT NULL ORDER BY id")


def read_rows(url: str) -> list[tuple[int, str, str | None, str | None]]:
    """The trainees, in one SELECT, through the plain database driver."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.split("///", 1)[1])
        try:
            return connection.execute(SELECT).fetchall()
        finally:
            connection.close()
    import psycopg

    conninfo = re.sub(r"^postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", "postgresql://", url, count=1)
    with psycopg.connect(conninfo) as connection:
        return connection.execute(SELECT).fetchall()


def request_body(rows: list[tuple[int, str, str | None, str | None]],
                 shape: dict[str, Any]) -> dict[str, Any]:
    """One Mail Send body for ``rows``, as avis shapes it."""
    base, fixed, greeting = shape["base_url"], shape["fixed"], shape["greeting"]
    subject = shape["subject"]
    personalizations = []
    for trainee_id, email, first_name, last_name in rows:
        token = secrets.token_urlsafe(32)
        link = f"{base}/q/{token}"
        unsubscribe = f"{base}/unsubscribe/{token}"
        hello = greeting % {"name": first_name} if first_name else shape["greeting_no_name"]
        personalizations.append({
            "to": [{"email": email, "name": f"{first_name} {last_name}"}],
            "subject": subject,
            "custom_args": {"invitation": str(trainee_id)},
            "substitutions": {
                "[[greeting_text]]": hello, "[[greeting_html]]": html.escape(hello),
                **fixed,
                "[[link_text]]": link, "[[link_html]]": link,
                "[[unsubscribe_text]]": unsubscribe, "[[unsubscribe_html]]": unsubscribe,
            },
            "headers": {"List-Unsubscribe": f"<{unsubscribe}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        })
    return {**shape["body"], "personalizations": personalizations}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", required=True, help="the fake server, http://127.0.0.1:PORT")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--shape", required=True, help="JSON file of the shared parts")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--report", help="also write the seconds from SELECT to last answer here")
    args = parser.parse_args(argv)
    with open(args.shape, encoding="utf-8") as file:
        shape = json.load(file)
    server = urllib.parse.urlsplit(args.host)
    headers = {"Authorization": f"Bearer {args.api_key}", "Content-Type": "application/json"}

    started = time.perf_counter()
    rows = read_rows(args.database_url)
    read_s = time.perf_counter() - started
    local = threading.local()

    def send(chunk: list[tuple[int, str, str | None, str | None]]) -> int:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(
                server.hostname, server.port, timeout=30)
        data = json.dumps(request_body(chunk, shape)).encode()
        local.connection.request("POST", "/v3/mail/send", data, headers)
        response = local.connection.getresponse()
        response.read()
        return response.status

    chunks = [rows[i:i + args.batch_size] for i in range(0, len(rows), args.batch_size)]
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        statuses = list(pool.map(send, chunks))
    total_s = time.perf_counter() - started
    refused = sum(1 for status in statuses if status != 202)
    print(json.dumps({"emails": len(rows), "requests": len(chunks), "refused": refused,
                      "read_s": round(read_s, 3), "total_s": round(total_s, 3)}), flush=True)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as file:
            file.write(repr(total_s))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
