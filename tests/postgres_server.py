"""A throwaway PostgreSQL server on loopback for the distributed tests.

Uses the server binaries of Debian's ``postgresql`` package (``.ci/run`` installs it).
Set ``SEARCHLAB_TEST_POSTGRES=URL`` to use a server of your own instead. When neither
works the tests that need it fail with a message saying what to install: never skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

ENV = "SEARCHLAB_TEST_POSTGRES"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started or reached."""


def _bindir() -> str:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
            "postgresql package (apt-get install -y postgresql), as .ci/run does, or set "
            f"{ENV}=postgresql+psycopg://USER@HOST:PORT/DB"
        )
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl start in a temporary folder; ``url`` for SQLAlchemy / optuna."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.folder = tempfile.mkdtemp(prefix="searchlab-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root: use the package's user
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and no 'postgres' user") from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://searchlab@127.0.0.1:{self.port}/searchlab"

    def _run(self, *args: str) -> None:
        cmd = [*self.prefix, os.path.join(self.bindir, args[0]), *args[1:]]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed: {done.stderr.strip()}")

    def start(self) -> PostgresServer:
        """Create the cluster and database, start the server, wait until it accepts."""
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "searchlab", "--no-sync")
        opts = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200"
        )
        log = os.path.join(self.folder, "server.log")
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-l", log, "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "searchlab",
                  "searchlab")  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_ready(url: str, seconds: float = 30.0) -> None:
    """Connect until it works (a server given by URL may still be starting)."""
    import sqlalchemy as sa

    deadline, last = time.time() + seconds, None
    while time.time() < deadline:
        try:
            with sa.create_engine(url).connect() as conn:
                conn.execute(sa.text("select 1"))
            return
        except Exception as exc:  # noqa: BLE001
            last = exc
            time.sleep(0.5)
    raise PostgresUnavailable(f"cannot connect to {url}: {last}")
