"""What ``make run`` does, step by step, in a fresh instance folder: migrate, demo, serve a page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrate_load_demo_and_serve(tmp_path):
    avis = str(Path(sys.executable).with_name("avis"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env["AVIS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'avis.db'}"
    env["AVIS_SECRET_KEY"] = "test"
    env["NO_PROXY"] = "127.0.0.1,localhost"

    def avis_cli(*args: str) -> str:
        done = subprocess.run([avis, *args], env=env, capture_output=True, text=True,
                              timeout=300, check=True)
        return done.stdout

    avis_cli("db", "upgrade")
    assert " 0 rejetées" in avis_cli("demo", "--if-empty", "--trainees", "3000")
    port = free_port()
    with subprocess.Popen([avis, "serve", "--port", str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                        html = page.read().decode()
                    break
                except OSError:
                    assert server.poll() is None, "the server stopped"
                    assert time.monotonic() < deadline, "the server never answered"
                    time.sleep(0.2)
        finally:
            server.terminate()
    assert '<html lang="fr">' in html
    assert "Loire-Atlantique (44)" in html
    assert "Mayenne (53)" in html


def test_web_workers_do_not_load_the_import_pipelines_libraries(tmp_path):
    """pandas, numpy and pyarrow cost each gunicorn worker ~100 MB and a slower start:
    only commands (imports, exports, jobs) load them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env["AVIS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'avis.db'}"
    env["AVIS_SECRET_KEY"] = "test"
    code = ("import sys, avis.wsgi; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=120, check=True, cwd=tmp_path)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr
