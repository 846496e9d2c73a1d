"""A throwaway MariaDB server on loopback (mariadb-install-db + mariadbd), startable as root."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from airflow_spof.testing.waiting import free_port, port_open, wait_until

INSTALL_HINT = "install the server with `apt-get install -y mariadb-server`"


def mariadb_binaries() -> tuple[str, str]:
    """``(mariadb-install-db, mariadbd)``; a clear error says how to get them."""
    install = shutil.which("mariadb-install-db")
    server = shutil.which("mariadbd") or (
        "/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None
    )
    if not install or not server:
        raise RuntimeError(f"MariaDB server binaries (mariadbd) not found: {INSTALL_HINT}")
    return install, server


@dataclass
class MariaDBServer:
    """A private server whose root user has no password, for tests and benchmarks."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-maria-")))
    database: str = "spof"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{self.database}"

    def init(self) -> MariaDBServer:
        install, _ = mariadb_binaries()
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={self.root / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        return self

    def start(self, timeout: float = 20.0) -> MariaDBServer:
        _, server = mariadb_binaries()
        log = (self.root / "log").open("ab")
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={self.root / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.root / 'sock'}",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        wait_until(
            lambda: port_open(self.port) or self._died(),
            timeout=timeout,
            what=f"mariadbd on port {self.port}",
        )
        self._died()
        import pymysql

        with pymysql.connect(host="127.0.0.1", port=self.port, user="root") as conn:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
        return self

    def _died(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = (self.root / "log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"mariadbd exited with {self.process.returncode}:\n{tail}")
        return False

    def stop(self) -> None:
        """Kill the server (a crash, as far as clients can tell)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
