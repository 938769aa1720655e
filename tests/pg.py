"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary directory, `pg_ctl start` listening on a
Unix socket in that directory only (no TCP port to collide with), trust authentication, stopped and deleted at the
end. As root (CI), the server runs as the `postgres` system user that Debian's package creates (or a user made
for it), since PostgreSQL refuses to run as root.

Binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian's `postgresql` package, which
scripts/install_postgres.sh installs), else pg_ctl on the PATH.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

SERVICE_USERS = ("postgres", "board-pg")
ROLE = "board"
PORT = 5432  # names the socket file only: no TCP


class PostgresError(RuntimeError):
    """PostgreSQL could not be found or started; the message says why and how to fix it."""


def bin_dir() -> Path:
    """The directory holding initdb and pg_ctl."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    candidates += versions
    if shutil.which("pg_ctl"):
        candidates.append(Path(shutil.which("pg_ctl")).resolve().parent)
    for found in candidates:
        if (found / "initdb").exists() and (found / "pg_ctl").exists():
            return found
    raise PostgresError(
        "No PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's `postgresql` package "
        "(`bash scripts/install_postgres.sh`), or set PG_BIN to their directory."
    )


def _service_user() -> pwd.struct_passwd:
    """A non-root user to run the server as (we are root here)."""
    for name in SERVICE_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USERS[-1]],
        capture_output=True,
        text=True,
    )
    try:
        return pwd.getpwnam(SERVICE_USERS[-1])
    except KeyError:
        raise PostgresError(f"Running as root, and no user to run PostgreSQL as: useradd said {made.stderr}") from None


class PostgresServer:
    """One throwaway server. `start()`, then `url(database)`; `stop()`/`start()` again to restart; `cleanup()`."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="board-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            user = _service_user()
            os.chown(self.root, user.pw_uid, user.pw_gid)
            runuser = shutil.which("runuser")
            self.prefix = (
                [runuser, "-u", user.pw_name, "--"] if runuser else ["su", user.pw_name, "-s", "/bin/sh", "-c"]
            )
        try:
            self._initdb()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if self.prefix[-1:] == ["-c"]:  # su: one shell command line
            command = [*self.prefix, " ".join(shlex.quote(a) for a in command)]
        else:
            command = [*self.prefix, *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def _initdb(self) -> None:
        done = self._run(
            self.bin / "initdb", "-D", self.data, "-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self, timeout: float = 60) -> None:
        options = (
            f"-k {self.root} -p {PORT} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", str(int(timeout)), "start",
            timeout=timeout + 30,
        )  # fmt: skip
        if done.returncode != 0:
            raise PostgresError(
                f"pg_ctl start failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log_tail()}"
            )

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", timeout=60)

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{ROLE}@/{database}?host={self.root}&port={PORT}"

    def new_database(self) -> str:
        """A fresh, empty database's URL (one per test keeps tests apart)."""
        import sqlalchemy

        name = "t_" + uuid.uuid4().hex[:12]
        admin = sqlalchemy.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        return self.url(name)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_server() -> PostgresServer:
    """A started throwaway server, or `PostgresError` saying why not."""
    server = PostgresServer()
    try:
        server.start()
    except BaseException:
        server.cleanup()
        raise
    return server
