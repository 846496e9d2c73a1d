"""Real upstreams for the sensor tests: a TCP listener, an HTTP server, moto regions, PostgreSQL.

Each test gets its own state store (``AIRFLOW__SPOF__STATE_STORE_URL``), so
health recorded by one test never steers failover in another.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airflow_spof.core.state import StateStore
from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.postgres import PostgresCluster
from airflow_spof.testing.waiting import free_port

HTTP_SECRET = "Http-Planted-Secret-71c9"
S3_SECRET = "S3-Planted-Secret-5be2"


@dataclass
class TcpListener:
    """A port that accepts and closes connections; ``stop()`` makes it refuse them."""

    port: int = field(default_factory=free_port)
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None

    def start(self) -> TcpListener:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()
        return self

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # wakes the blocked accept() on Linux
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class _Handler(BaseHTTPRequestHandler):
    """``/ok`` 200, ``/down`` 503, ``/private`` 200 only with the planted basic-auth password."""

    def do_GET(self) -> None:
        if self.path == "/ok":
            status = 200
        elif self.path == "/private":
            expected = base64.b64encode(f"probe:{HTTP_SECRET}".encode()).decode()
            status = 200 if self.headers.get("Authorization") == f"Basic {expected}" else 401
        elif self.path == "/down":
            status = 503
        else:
            status = 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def tcp_listener() -> Iterator[TcpListener]:
    listener = TcpListener().start()
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateStore]:
    url = f"sqlite:///{tmp_path / 'spof_state.db'}"
    monkeypatch.setenv("AIRFLOW__SPOF__STATE_STORE_URL", url)
    from airflow_spof.settings import state_store

    shared = state_store(url)
    try:
        yield shared
    finally:
        shared.dispose()


@pytest.fixture(scope="session")
def region() -> Iterator[MotoRegion]:
    """One moto S3 region behind the Airflow connection ``spof_sensor_s3``."""
    with MotoRegion(region_name="eu-west-1") as started, pytest.MonkeyPatch.context() as mp:
        mp.setenv(*started.connection_env("spof_sensor_s3", secret_key=S3_SECRET))
        yield started


@pytest.fixture
def live_region(region: MotoRegion) -> Iterator[MotoRegion]:
    """The session region; restarted (empty) if the test killed it."""
    yield region
    if not region.running:
        region.restart()


@pytest.fixture
def bucket(live_region: MotoRegion) -> str:
    name = f"spof-sensor-{uuid.uuid4().hex[:10]}"
    live_region.create_bucket(name)
    return name


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster these tests may stop; ``pg`` restarts it for each test."""
    cluster = PostgresCluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg(pg_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    if not (pg_cluster.data_dir / "postmaster.pid").exists():
        pg_cluster.start()
    yield pg_cluster
    if not (pg_cluster.data_dir / "postmaster.pid").exists():
        pg_cluster.start()


@pytest.fixture
def listener_factory() -> Iterator[type[TcpListener]]:
    """Make listeners that start later (an upstream coming back); all are stopped at the end."""
    made: list[TcpListener] = []

    class Tracked(TcpListener):
        def __post_init__(self) -> None:
            made.append(self)

    try:
        yield Tracked
    finally:
        for listener in made:
            listener.stop()


@pytest.fixture
def http_secret() -> str:
    return HTTP_SECRET


@pytest.fixture
def s3_secret() -> str:
    return S3_SECRET
