"""The throwaway PostgreSQL of the test run is removed however its process ends."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import REPO

START_AND_WAIT = """
import sys, time
sys.path.insert(0, "sample_app")
from sampleproject.dbserver import database_url
print(database_url(), flush=True)
time.sleep(300)
"""


def test_sigterm_stops_and_removes_the_embedded_server() -> None:
    # Not under pytest's tmp_path: the server runs as another user when this runs as root,
    # and must be able to reach its data directory.
    scratch = Path(tempfile.mkdtemp(prefix="indexguard-test-"))
    scratch.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TMPDIR"] = str(scratch)
    process = subprocess.Popen(
        [sys.executable, "-c", START_AND_WAIT],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("postgres")
        [pgdata] = scratch.glob("indexguard-pg-*")
        server = int((pgdata / "postmaster.pid").read_text().split()[0])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
        assert not pgdata.exists()
        assert not _running(server)
    finally:
        if process.poll() is None:
            process.kill()
        shutil.rmtree(scratch, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
