"""The testbed pieces other tests, the demo and users' pytest runs build on."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from airflow_spof.hooks.s3_parts import PartBody, take_part
from airflow_spof.testing.fault_proxy import FaultProxy, Mode
from airflow_spof.testing.waiting import free_port, wait_until


def test_part_body_reads_and_seeks_across_chunks() -> None:
    chunks = [b"abc", b"", b"defgh", b"ij"]
    body = PartBody(chunks)
    assert len(body) == 10
    assert body.read(2) == b"ab"
    assert body.read(4) == b"cdef"
    assert body.read() == b"ghij"
    assert body.read(5) == b""
    assert body.seek(0) == 0 and body.read() == b"abcdefghij"
    assert body.seek(-3, io.SEEK_END) == 7 and body.read(10) == b"hij"
    body.seek(4)
    buffer = bytearray(3)
    assert body.readinto(buffer) == 3 and bytes(buffer) == b"efg"
    assert PartBody([]).read() == b""


def test_take_part_stops_at_the_size_without_copying() -> None:
    chunks = [b"x" * 4, b"y" * 4, b"z" * 4]
    stream = iter(chunks)
    part = take_part(stream, 6)
    assert part.size == 8 and part.chunks[0] is chunks[0]
    assert take_part(stream, 6).chunks == [chunks[2]]
    assert take_part(stream, 6).size == 0


@pytest.fixture
def echo_port():
    """A tiny echo server: one line in, the same line out."""
    server = socket.create_server(("127.0.0.1", free_port()))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # the proxy may reset us: that is its job
                while data := conn.recv(1024):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    server.close()
    thread.join(5)


def roundtrip(port: int, timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(b"ping\n")
        return conn.recv(1024)


def test_fault_proxy_modes(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        assert roundtrip(proxy.port) == b"ping\n"
        proxy.set_mode(Mode.DELAY, delay=0.2)
        started = time.monotonic()
        assert roundtrip(proxy.port) == b"ping\n"
        assert time.monotonic() - started >= 0.2
        proxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            roundtrip(proxy.port, timeout=0.3)  # connected, then silence
        assert time.monotonic() - started < 1.0
        proxy.set_mode(Mode.RESET)
        with pytest.raises(ConnectionResetError):
            roundtrip(proxy.port)
        proxy.set_mode(Mode.CLOSE)
        assert roundtrip(proxy.port) == b""  # clean EOF
        proxy.set_mode(Mode.PASS)
        assert roundtrip(proxy.port) == b"ping\n"


def test_fault_proxy_refuses_when_its_target_is_down() -> None:
    with FaultProxy(free_port()) as proxy, pytest.raises(ConnectionResetError):
        roundtrip(proxy.port)


def test_region_dies_with_the_process_that_started_it(tmp_path) -> None:
    """A test run killed on a timeout must not leave moto servers behind."""
    script = (
        "import os; from airflow_spof.testing.moto_region import MotoRegion\n"
        "r = MotoRegion(log_dir=__import__('pathlib').Path(os.environ['LOG_DIR'])).start()\n"
        "print(r.process.pid, flush=True); os.kill(os.getpid(), 9)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_DIR": str(tmp_path)},
    )
    assert run.returncode == -9
    server = int(run.stdout.split()[0])

    def gone() -> bool:
        try:
            os.kill(server, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, timeout=10, what=f"moto_server {server} to die with its parent")
