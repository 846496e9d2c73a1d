"""Throwaway PostgreSQL clusters (initdb + pg_ctl) on loopback, startable as root."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from airflow_spof.testing.waiting import free_port

INSTALL_HINT = "install the server with `apt-get install -y postgresql` (.ci/run does this)"


def pg_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl; a clear error says how to get them."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}")


@dataclass
class PostgresCluster:
    """A private cluster: start, stop (crash), pause (SIGSTOP) and resume like a real outage."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-pg-")))
    host: str = "127.0.0.1"
    # e.g. ``ip netns exec <ns>``: the server then lives behind its own (shaped) link.
    command_prefix: tuple[str, ...] = ()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(pg_bin_dir() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            [*self.command_prefix, *cmd], check=True, capture_output=True, text=True
        )

    def init(self) -> PostgresCluster:
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "--auth=trust", "--no-sync", "-U", "postgres")
        if self.host != "127.0.0.1":  # reached over its own link: trust that subnet too
            with open(self.data_dir / "pg_hba.conf", "a") as hba:
                hba.write("host all all samenet trust\n")
        return self

    def start(self) -> PostgresCluster:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-w",
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "start",
        )
        return self

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``immediate`` is a crash as far as clients can tell."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def _pids(self) -> list[int]:
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
        return [postmaster, *(int(p) for p in children.stdout.split())]

    def pause(self) -> None:
        """Freeze every server process: connections hang instead of failing."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            try:
                self.resume()
                self.stop()
            except (subprocess.CalledProcessError, OSError, ValueError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)
