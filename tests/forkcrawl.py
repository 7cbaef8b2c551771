"""The crawl process without its interpreter start: a fork of the test process.

``regwatch run`` starts ``python -m crawler.fetch.process`` for every crawl (Twisted's reactor
cannot restart in one process), and most of such a process's life is Python starting and
importing Scrapy, its middlewares and Twisted. In the tests, ``crawler.jobs.crawl`` gets a
stand-in for ``subprocess`` whose ``run`` forks this process instead: the child runs
``crawler.fetch.process.main`` unchanged on the same JSON handover (stdin, stdout and stderr
are pipes, as with the real subprocess). The child tells the parent which modules it had to
import, and the parent imports them (never a reactor: none is installed here), so the next
child starts with them. Everything after the start is the real crawl: Scrapy's engine,
downloader, middlewares, the pipeline, the loopback replay server.

Tests marked ``real_crawl_process`` (the one end-to-end crawl per source, the CLI) keep the
real subprocess."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import select
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

PROCESS = "crawler.fetch.process"
REACTOR = "twisted.internet.reactor"
_known: set[str] = set()  # modules a child imported that this process has imported since


def run(
    args: Sequence[str], *, input: bytes, stdout: Any = None, stderr: Any = None, **_: Any
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run`` for ``[python, -m, crawler.fetch.process]``, by fork."""
    assert list(args[1:]) == ["-m", PROCESS], args
    warm()
    pipes = {name: os.pipe() for name in ("in", "out", "err", "modules")}
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        _child(pipes)
    for name in ("out", "err", "modules"):
        os.close(pipes[name][1])
    os.close(pipes["in"][0])
    os.write(pipes["in"][1], input)
    os.close(pipes["in"][1])
    said = _drain([pipes[name][0] for name in ("out", "err", "modules")])
    status = os.waitpid(pid, 0)[1]
    _learn(said[2].decode().split())
    errors = said[1] if stderr == subprocess.PIPE else None
    if stderr != subprocess.PIPE and said[1]:
        sys.stderr.write(said[1].decode(errors="replace"))
    return subprocess.CompletedProcess(
        list(args), os.waitstatus_to_exitcode(status), said[0], errors
    )


def warm() -> None:
    """Import here, once, what every crawl imports: the crawl process's modules, the spiders
    and every component Scrapy's settings name (middlewares, handlers, extensions ...; a
    reactor is not one: importing ``twisted.internet.asyncioreactor`` installs nothing)."""
    if _known:
        return
    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    from crawler.config import load
    from crawler.fetch import spiders
    from crawler.fetch.settings import build_settings

    importlib.import_module(PROCESS)
    found = pkgutil.iter_modules(spiders.__path__, spiders.__name__ + ".")
    _learn([module.name for module in found] + ["twisted.internet.asyncioreactor"])
    named = [getattr(default_settings, n) for n in dir(default_settings) if n.isupper()]
    named += build_settings(load(None, env={}), run_id=0, now="").values()
    for path in {path for value in named for path in _paths(value)}:
        try:
            load_object(path)
        except Exception:  # a setting's value that only looks like an import path
            continue


def _paths(value: Any) -> Iterator[str]:
    if isinstance(value, str) and re.fullmatch(r"[a-z_]\w*(\.\w+)+", value, re.ASCII):
        if "reactor" not in value.lower() or "asyncioreactor" in value:
            yield value
    elif isinstance(value, dict):
        yield from (p for item in value.items() for v in item for p in _paths(v))
    elif isinstance(value, list | tuple):
        yield from (p for v in value for p in _paths(v))


def _child(pipes: dict[str, tuple[int, int]]) -> None:
    code = 70  # EX_SOFTWARE, if main itself blew up
    before = set(sys.modules)
    try:
        for name, (read, write) in pipes.items():
            os.close(write if name == "in" else read)
        os.dup2(pipes["in"][0], 0)
        os.dup2(pipes["out"][1], 1)
        os.dup2(pipes["err"][1], 2)
        sys.stdin = os.fdopen(0, "r", closefd=False)
        sys.stdout = os.fdopen(1, "w", closefd=False)
        sys.stderr = os.fdopen(2, "w", closefd=False)
        sys.modules.pop(REACTOR, None)  # in case a test imported one: never started
        from crawler.fetch import pipelines, process

        pipelines.storage_failures.clear()
        code = process.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            new = [m for m in sys.modules if m not in before]
            os.write(pipes["modules"][1], "\n".join(new).encode())
        finally:
            os._exit(code)


def _learn(modules: list[str]) -> None:
    """Import here what the child had to import, and read the source of the spiders'
    callbacks once (Scrapy reads it for every request), so later children need neither."""
    for name in modules:
        if name in _known or name == "__main__" or name.startswith(REACTOR):
            continue
        _known.add(name)
        try:
            module = importlib.import_module(name)
        except Exception:  # a module that only imports inside a running crawl
            continue
        if name.startswith("crawler.fetch.spiders."):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                for function in vars(cls).values():
                    if inspect.isgeneratorfunction(function):
                        inspect.getsource(function)


def _drain(fds: list[int]) -> list[bytes]:
    """The pipes read to their end together (none fills up while another is read)."""
    read: dict[int, list[bytes]] = {fd: [] for fd in fds}
    open_fds = set(fds)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [])
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                read[fd].append(chunk)
            else:
                open_fds.discard(fd)
                os.close(fd)
    return [b"".join(read[fd]) for fd in fds]


class Subprocess:
    """What ``crawler.jobs.crawl`` uses of the ``subprocess`` module, crawl started by fork."""

    PIPE = subprocess.PIPE
    CompletedProcess = subprocess.CompletedProcess
    run = staticmethod(run)
