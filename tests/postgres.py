"""A real PostgreSQL server for the tests (Debian's `postgresql` package, which `make setup`
installs): one per pytest process, in its own temporary folder, reachable only on a Unix socket
in that folder (no TCP), so two suites running side by side never meet. Each test gets a fresh
database. If the server cannot start, the tests that need it fail (they are never skipped).

Fixtures: `postgres_server` (session: the server's admin URL), `postgres_url` (a fresh database
per test), `usage_url` (parametrized: a fresh SQLite file and a fresh Postgres database)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

USER = "vvv"


def postgres_bin() -> Path:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `make setup`")
    return Path(found[-1]).parent


class PostgresServer:
    """initdb + pg_ctl in `root` (data in root/data, the socket in root). As root the server
    runs as the `postgres` user (initdb refuses root), which then owns the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.bin = postgres_bin()
        self._databases = itertools.count()
        self._admin = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            pytest.fail(f"PostgreSQL: `{' '.join(args[:2])}` failed ({result.returncode}): "
                        f"{result.stderr.strip()} {log}")  # fmt: skip

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.root}"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C", "--no-sync")
        self.start_again()
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)

    def start_again(self) -> None:
        """Start the server on its data folder (after `kill`)."""
        options = f"-k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"  # no TCP; fast
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def kill(self) -> None:
        """Stop the server at once, as a crash would (`pg_ctl stop -m immediate`): connections drop."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{next(self._databases)}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return name

    def drop_database(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this pytest process; stopped and deleted at the end."""
    root = Path(tempfile.mkdtemp(prefix="vvv-pg-"))  # short: a socket path has at most 107 bytes
    server = PostgresServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh database on the session's server, dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.database_url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def usage_url(request, tmp_path) -> str:
    """The URL of a fresh, empty usage database: a SQLite file, then a Postgres database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'usage.db'}"
    return request.getfixturevalue("postgres_url")
