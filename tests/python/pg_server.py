"""A throwaway PostgreSQL server for the tests (session scope): Debian's ``postgresql`` binaries
(``/usr/lib/postgresql/<version>/bin``, installed with apt-get when missing and the tests run as
root), ``initdb`` into a temporary directory, ``pg_ctl start`` on a free local port, stopped and
deleted at teardown.

initdb refuses to run as root: as root the cluster belongs to the ``postgres`` user of the package
and every server command runs through ``runuser``; as any other user it runs as that user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from debian import apt_install

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"


def _bin_dir() -> Path | None:
    found = sorted(
        PG_ROOT.glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0
    )
    return found[-1].parent if found else None


def find_or_install_binaries() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin``; installs Debian's ``postgresql`` when it is missing."""
    found = _bin_dir()
    if found:
        return found
    problem = apt_install("postgresql")
    if problem:
        pytest.fail(f"PostgreSQL binaries not found in /usr/lib/postgresql/*/bin: {problem}")
    found = _bin_dir()
    if not found:
        pytest.fail("apt-get install postgresql left no /usr/lib/postgresql/*/bin/pg_ctl")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class PgServer:
    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None  # the OS user the server runs as (None: the current user)

    def url(self, user: str = SUPERUSER, password: str | None = None, dbname: str = "postgres") -> str:
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{dbname}"

    def command(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.command(tool, *args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def create_database(self, name: str) -> str:
        """A new, empty database (each test module its own); returns its URL."""
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name)
        return self.url(dbname=name)


def start_server(*, fsync: bool = False) -> PgServer:
    """A new cluster, started. ``fsync=False`` (the tests): nothing a test checks survives a crash
    of the machine anyway; benchmarks pass True to measure what a real server does."""
    bin_dir = find_or_install_binaries()
    run_as = SUPERUSER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="lifecycle-pg-"))
    if run_as:
        shutil.chown(root, user=run_as)
    server = PgServer(bin_dir, root / "data", _free_port(), run_as)
    server.run("initdb", "-D", str(server.data_dir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=60"
    if not fsync:
        options += " -c fsync=off"
    server.run("pg_ctl", "-D", str(server.data_dir), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    return server


def stop_server(server: PgServer) -> None:
    subprocess.run(
        server.command("pg_ctl", "-D", str(server.data_dir), "-m", "immediate", "-w", "stop"),
        capture_output=True,
        check=False,
    )
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)
