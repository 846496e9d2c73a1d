"""One S3 region = one ``moto_server`` process on loopback.

Two moto servers inside one process share their state, so each region runs
as its own process: killing it loses the region's data, as a real region
loss would, and it can be restarted (empty) on the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_spof.testing.waiting import free_port, port_open, wait_until

INSTALL_HINT = "install it with `pip install 'moto[server]>=5.2'` (the dev extra of airflow-spof)"
FAKE_ACCESS_KEY = "AKIASPOFTESTING00001"
FAKE_SECRET_KEY = "spof-fake-secret-key-for-moto-0001"


def moto_server_path() -> str:
    """The ``moto_server`` next to this interpreter, or on PATH; a clear error otherwise."""
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found:
        return found
    raise RuntimeError(f"moto_server not found: {INSTALL_HINT}")


@dataclass
class MotoRegion:
    """A killable, restartable S3 region for tests, drills and the demo."""

    region_name: str = "us-east-1"
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-moto-")))
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # e.g. ``ip netns exec <ns>``: the region then lives behind its own (shaped) link.
    command_prefix: tuple[str, ...] = ()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> MotoRegion:
        """Start the server (empty) and wait until it answers."""
        if self.running:
            return self
        log = open(self.log_dir / "moto.log", "ab")  # noqa: SIM115 -- owned by the child
        try:
            self.process = subprocess.Popen(
                [*_die_with_parent(), *self.command_prefix, *self.server_command()],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        wait_until(self._ready, timeout=timeout, what=f"moto_server on {self.endpoint_url}")
        return self

    def server_command(self) -> list[str]:
        return [moto_server_path(), "-H", self.host, "-p", str(self.port)]

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"moto_server exited with {self.process.returncode}; "
                f"see {self.log_dir / 'moto.log'}"
            )
        return port_open(self.port, self.host)

    def kill(self) -> None:
        """Lose the region at once (SIGKILL): connections break, data is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> MotoRegion:
        """Bring a lost region back, empty, on the same port."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> MotoRegion:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- Airflow connection -------------------------------------------------

    def connection(
        self,
        access_key: str = FAKE_ACCESS_KEY,
        secret_key: str = FAKE_SECRET_KEY,
        endpoint_url: str | None = None,
    ) -> dict[str, Any]:
        """An ``aws`` connection pointing at this region (or at a proxy in front of it)."""
        return {
            "conn_type": "aws",
            "login": access_key,
            "password": secret_key,
            "extra": {
                "endpoint_url": endpoint_url or self.endpoint_url,
                "region_name": self.region_name,
            },
        }

    def connection_env(self, conn_id: str, **kwargs: Any) -> tuple[str, str]:
        """``(AIRFLOW_CONN_<ID>, json)``: set it in the environment to define the connection."""
        return conn_env_name(conn_id), json.dumps(self.connection(**kwargs))

    def client(self, **config: Any) -> Any:
        """A plain boto3 client to arrange and inspect test state (not for code under test)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            config=Config(retries={"total_max_attempts": 1}, **config),
        )

    def create_bucket(self, bucket: str) -> None:
        client = self.client()
        if self.region_name == "us-east-1":
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region_name}
            )


def _die_with_parent() -> list[str]:
    """A command prefix that SIGKILLs the server when the process that started it dies.

    A test run killed on a timeout then leaves no region behind (Linux, via
    util-linux ``setpriv``; without it the fixtures' own cleanup is all there
    is). The signal follows the starting *thread*: start regions from a
    long-lived one.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def conn_env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"
