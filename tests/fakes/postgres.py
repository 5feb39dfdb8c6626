"""A throwaway PostgreSQL server for tests: ``initdb`` in a temp dir, started on a free port, stopped after.

Durability is switched off (fsync, synchronous commit, full-page writes): a test server's data dies with it.
Postgres refuses to run as root, so under root (as in CI) the server runs as the ``postgres`` user.
The server is stopped by ``stop()``, at exit, or, if the test process is killed, by a watchdog process.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

SERVER_USER = "postgres"
"""The OS user the server runs as when the tests run as root, and the database superuser's name."""
TEST_DATABASE = "wyshbone_test"

# Durability off: nothing here must survive a crash, and fsyncs are most of a small server's write time.
_SPEED_OVER_SAFETY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
_database_numbers = count(1)


class PostgresFailed(RuntimeError):
    """A server command (initdb, pg_ctl) failed; the message carries its output."""


def find_bin_dir() -> Path | None:
    """Where ``initdb``, ``pg_ctl`` and ``postgres`` are: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).parent] if on_path else []
    versioned = (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin"))
    candidates += sorted(
        versioned, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True
    )
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@dataclass
class PostgresServer:
    """A running server; ``stop()`` ends it and deletes its files (safe to call more than once)."""

    bin_dir: Path
    root: Path
    """The temp dir holding the data dir and the Unix socket; removed by ``stop()``."""
    port: int = 0
    startup_seconds: float = 0.0
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = TEST_DATABASE) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def down(self) -> None:
        """Stop the server as an outage would (clients cut off), keeping its files for ``up``."""
        _stop_postmaster(self.bin_dir, self.data_dir)

    def up(self) -> None:
        """Start it again after ``down``, on the same port."""
        _start(self, self.port)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.data_dir.joinpath("postmaster.pid").exists():
                _stop_postmaster(self.bin_dir, self.data_dir)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            if self._watchdog is not None:
                self._watchdog.communicate(timeout=30)  # EOF on its stdin: it finds nothing left to stop


def start_postgres(bin_dir: Path) -> PostgresServer:
    """Initialise and start a server in a fresh temp dir, with an empty ``wyshbone_test`` database."""
    started = time.perf_counter()
    # mkdtemp makes a 0o700 dir: the server user must be able to walk into it.
    root = Path(tempfile.mkdtemp(prefix="wyshbone-pg-"))
    root.chmod(0o755)
    server = PostgresServer(bin_dir=bin_dir, root=root, _watchdog=_start_watchdog(bin_dir, root))
    # The caller's finaliser stops the server; this covers an exit before it got one, the watchdog a kill.
    atexit.register(server.stop)
    try:
        if os.geteuid() == 0:
            shutil.chown(root, user=SERVER_USER, group=SERVER_USER)
        initdb = [bin_dir / "initdb", "-D", server.data_dir, "-A", "trust", "-U", SERVER_USER]
        _run([*initdb, "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"], cwd=root)
        server.port = _start_on_free_port(server)
        create_database(server.url("postgres"), TEST_DATABASE)
    except BaseException:
        server.stop()
        raise
    server.startup_seconds = time.perf_counter() - started
    return server


@contextmanager
def running_postgres(bin_dir: Path) -> Iterator[PostgresServer]:
    """A server for the duration of the block, stopped however the block ends."""
    server = start_postgres(bin_dir)
    try:
        yield server
    finally:
        server.stop()


def create_database(url: str, name: str | None = None) -> str:
    """A new empty database on the server behind ``url`` (named ``name`` or numbered); returns its URL."""
    name = name or f"wyshbone_{os.getpid()}_{next(_database_numbers)}"
    with _admin(url) as conn:
        # FILE_COPY clones template1 as files, faster than WAL-logging each page (15's default strategy).
        conn.execute(sql.SQL("CREATE DATABASE {} STRATEGY FILE_COPY").format(sql.Identifier(name)))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database ``url`` names, closing any connection a test left open to it."""
    name = make_url(url).database or ""
    with _admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the server's ``postgres`` database (CREATE/DROP DATABASE need one)."""
    target = make_url(url)
    return psycopg.connect(
        host=target.host, port=target.port, user=target.username, dbname="postgres", autocommit=True
    )


def _start(server: PostgresServer, port: int) -> None:
    log = server.data_dir / "server.log"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {server.root} {_SPEED_OVER_SAFETY}"
    pg_ctl = [server.bin_dir / "pg_ctl", "-D", server.data_dir, "-l", log, "-o", options]
    _run([*pg_ctl, "-w", "-t", "30", "start"], cwd=server.root)


def _start_on_free_port(server: PostgresServer, attempts: int = 3) -> int:
    for attempt in range(1, attempts + 1):
        port = _free_port()
        try:
            _start(server, port)
        except PostgresFailed as exc:
            # Someone may have taken the port between our probe and the server's bind: try another.
            if attempt == attempts:
                log = server.data_dir / "server.log"
                raise PostgresFailed(f"{exc}\nserver log:\n{_tail(log)}") from None
        else:
            return port
    raise AssertionError("unreachable")


def _stop_postmaster(bin_dir: Path, data_dir: Path) -> None:
    """Fast shutdown (clients disconnected, clean stop); immediate, then SIGKILL, if that does not finish."""
    for mode in ("fast", "immediate"):
        try:
            _run(
                [bin_dir / "pg_ctl", "-D", data_dir, "-m", mode, "-w", "-t", "10", "stop"],
                cwd=data_dir.parent,
            )
        except (PostgresFailed, subprocess.TimeoutExpired):
            continue
        return
    _kill_postmaster(data_dir)


def _kill_postmaster(data_dir: Path) -> None:
    """SIGKILL the postmaster whose pid file is in ``data_dir``, once sure that pid is still this server."""
    try:
        pid = int(data_dir.joinpath("postmaster.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return  # no pid file or no such process: nothing left running
    if str(data_dir).encode() in cmdline:
        os.kill(pid, signal.SIGKILL)


def _start_watchdog(bin_dir: Path, root: Path) -> subprocess.Popen[bytes]:
    """A process that stops the server once this one is gone, however it went (even SIGKILL or os._exit).

    It waits for EOF on a pipe only this process holds open; its own session keeps Ctrl-C off it.
    """
    return subprocess.Popen(
        [sys.executable, __file__, "watch", str(bin_dir), str(root)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def _watch(bin_dir: Path, root: Path) -> None:
    sys.stdin.buffer.read()
    PostgresServer(bin_dir=bin_dir, root=root).stop()


def _run(args: Sequence[str | Path], *, cwd: Path) -> None:
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise PostgresFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


if __name__ == "__main__" and sys.argv[1:2] == ["watch"]:
    _watch(Path(sys.argv[2]), Path(sys.argv[3]))
