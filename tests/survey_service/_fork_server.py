"""A forking launcher of the Runxin app for the kill-and-restart tests (run as a script, not
collected).

Usage: python _fork_server.py DATABASE_URL SECRET_KEY

Starting ``runxin serve`` costs about 1.5 s of imports; a test that kills and restarts the
server dozens of times cannot pay that each time. This process imports the service and builds the
app (``create_app(settings)``) once, binds one listening socket on 127.0.0.1 and then, on
request, forks a child that starts the app (its lifespan opens the child's own database engine
and loads the runtime) and serves on the inherited socket with uvicorn — a real OS process that
the test kills with SIGKILL.

The listening socket stays open in this process between children, the way a socket-activated
service or a load balancer's listener does: a client that connects while no child runs waits
in the kernel's backlog and is answered by the next child; a request a killed child had
accepted loses its connection (no answer).

Protocol: one command per line on stdin, one reply per line on stdout.

- first line out: ``port N``.
- ``spawn``: reap the previous child (it must already be dead; the line ``reaped PID STATUS``,
  where STATUS is ``signal N`` or ``exit N``), fork a new one; the child writes ``ready PID``
  once uvicorn listens.
- ``stop`` or end of input: SIGKILL the current child, reap it, write ``stopped``, exit.

The fork happens in this process's only thread with no event loop ever started here, so the
child starts from a clean state (no inherited loop, lock or connection).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import uvicorn

from survey_service.app import create_app
from survey_service.settings import Settings


def _say(line: str) -> None:
    # One write per line: the parent and its children share this pipe.
    os.write(1, (line + "\n").encode())


class _ReadyServer(uvicorn.Server):
    """uvicorn's server that says ``ready PID`` once it accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            _say(f"ready {os.getpid()}")


def _child(config: uvicorn.Config, sock: socket.socket) -> None:
    """Serve the app on the inherited socket until killed. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _ReadyServer(config).run(sockets=[sock])
        code = 0
    except BaseException as exc:  # report, then leave without running the parent's code
        print(f"fork server child {os.getpid()} failed: {exc!r}", file=sys.stderr, flush=True)
    finally:
        os._exit(code)


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def _reap(pid: int, *, timeout: float) -> str | None:
    """Wait up to ``timeout`` seconds for child ``pid`` to end; its status, or None."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return _status(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def _preload(settings: Settings) -> uvicorn.Config:
    """The app, built once here (``create_app(settings)``) with uvicorn's configuration
    loaded, both database drivers imported and the ORM's mappers configured, for every child
    to inherit, as ``gunicorn --preload`` does.

    Measured on the 2-core machine: building the app is 0.13 to 0.25 s of route compilation
    and the mappers' configuration 0.12 s; done in each child they took a restart from about
    0.05 s to 0.3 s. Nothing here starts an event loop, a thread or a connection: each child
    runs the app's lifespan itself (its own engine, runtime and connections)."""
    import aiosqlite  # noqa: F401
    import asyncpg  # noqa: F401
    import sqlalchemy.dialects.postgresql.asyncpg
    import sqlalchemy.dialects.sqlite.aiosqlite  # noqa: F401
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # 0.12 s per child otherwise, at its first query
    config = uvicorn.Config(
        create_app(settings), log_level="warning", lifespan="on", access_log=False
    )
    config.load()
    return config


def main(database_url: str, secret_key: str) -> int:
    config = _preload(Settings(database_url=database_url, secret_key=secret_key))
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only then.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    _say(f"port {sock.getsockname()[1]}")
    child: int | None = None
    for line in sys.stdin:
        command = line.strip()
        if command == "spawn":
            if child is not None:
                status = _reap(child, timeout=10)
                if status is None:
                    _say(f"error child {child} is still running")
                    continue
                _say(f"reaped {child} {status}")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(config, sock)
            child = pid
        elif command == "stop":
            break
        else:
            _say(f"error unknown command {command!r}")
    if child is not None:
        os.kill(child, signal.SIGKILL)  # a zombie (already dead, not reaped) takes it too
        _reap(child, timeout=10)
    sock.close()
    _say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
