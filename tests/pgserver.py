"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, listening on
127.0.0.1 only, trust auth, stopped and removed at the end. PostgreSQL refuses to run as root,
so as root (CI) the server runs as the ``postgres`` user Debian's package creates.

Used by tests/conftest.py (a session fixture) and by .ci/run:
    python tests/pgserver.py start FOLDER   # prints the server's URL
    python tests/pgserver.py stop FOLDER
    python tests/pgserver.py database URL  # a new database on that server (needs psycopg)
The databases use an ICU en-US collation (not C), so that ordering that depends on the
collation shows up in the tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

USER = "regwatch"  # the database superuser initdb makes


def bindir() -> Path | None:
    """Where initdb and pg_ctl are (Debian keeps them out of PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(folder: Path) -> str:
    """Start a server whose data is in ``folder`` (as root: a folder the ``postgres`` user
    can reach, e.g. a new one in /tmp); returns its URL (database ``postgres``)."""
    bin_ = bindir()
    if bin_ is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb)")
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    run = lambda *cmd: subprocess.run(  # noqa: E731
        _as_owner([str(c) for c in cmd]), check=True, capture_output=True, text=True
    )
    try:
        run(bin_ / "initdb", "-D", data, "-U", USER, "-A", "trust", "-E", "UTF8",
            "--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8")  # fmt: skip
    except subprocess.CalledProcessError:  # a PostgreSQL without ICU
        shutil.rmtree(data, ignore_errors=True)
        run(bin_ / "initdb", "-D", data, "-U", USER, "-A", "trust", "-E", "UTF8")
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    run(bin_ / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start")
    return url(port)


def url(port: int, database: str = "postgres") -> str:
    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{database}"


def stop(folder: Path) -> None:
    bin_ = bindir()
    if bin_ is not None and (folder / "data" / "postmaster.pid").exists():
        subprocess.run(
            _as_owner(
                [str(bin_ / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )


def fresh_database(server: str) -> str:
    """A new empty database on ``server`` (a URL); returns its URL."""
    import psycopg
    from sqlalchemy import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_url(server).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(database: str) -> None:
    import psycopg
    from sqlalchemy import make_url

    url_ = make_url(database)
    admin = url_.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url_.database}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    action, folder = argv[1], Path(argv[2] if len(argv) > 2 else tempfile.mkdtemp(prefix="pg-"))
    if action == "start":
        print(start(folder))
    elif action == "database":  # argv[2] is a server's URL: a new database on it
        print(fresh_database(argv[2]))
    elif action == "stop":
        stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"usage: {argv[0]} start FOLDER | stop FOLDER | database URL", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
