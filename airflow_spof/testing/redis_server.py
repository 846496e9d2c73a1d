"""A throwaway Redis on loopback: the Celery broker of a multi-worker test stack.

No persistence (``--save '' --appendonly no``), a private directory, its own
session so ``stop()`` leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from airflow_spof.testing.waiting import free_port, wait_until

INSTALL_HINT = "install it with `apt-get install -y redis-server` (.ci/run does this)"


def redis_server_path() -> str:
    """The ``redis-server`` binary; a clear error says how to get it."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise RuntimeError(f"redis-server not found: {INSTALL_HINT}")
    return found


@dataclass
class RedisServer:
    """Start with :meth:`start`, stop with :meth:`stop` (or use it as a context manager)."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-redis-")))
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 30.0) -> RedisServer:
        if self.process is not None:
            return self
        command = [
            redis_server_path(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "no",
        ]  # fmt: skip
        with open(self.root / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self._ready, timeout=timeout, interval=0.05, what=f"redis on {self.url()}")
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with {self.process.returncode}; see {self.root / 'redis.log'}"
            )
        return self.ping()

    def ping(self) -> bool:
        """True when the server answers PING (plain RESP over a socket: no client library)."""
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
