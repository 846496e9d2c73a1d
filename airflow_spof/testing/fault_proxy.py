"""A loopback TCP proxy whose behaviour can be switched at run time.

Modes: ``pass`` (forward), ``blackhole`` (accept, never answer: the endpoint
hangs), ``delay`` (forward after a fixed delay per chunk), ``reset`` (answer
with a TCP RST) and ``close`` (accept, then close cleanly). It runs its own
asyncio loop in a background thread, so synchronous tests and benchmarks can
put it in front of any server (moto, PostgreSQL) with no extra process.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import struct
import threading
from dataclasses import dataclass, field

from airflow_spof.testing.waiting import free_port

_CHUNK = 64 * 1024


class Mode(str, enum.Enum):
    PASS = "pass"
    BLACKHOLE = "blackhole"
    DELAY = "delay"
    RESET = "reset"
    CLOSE = "close"


@dataclass
class FaultProxy:
    """``FaultProxy(target_port).start()``; point clients at ``proxy.port``; ``set_mode(...)``."""

    target_port: int
    target_host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    mode: Mode = Mode.PASS
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_mode(self, mode: Mode | str, delay: float = 0.0) -> None:
        """Switch behaviour; ``reset`` and ``close`` also cut connections already open."""
        self.mode, self.delay = Mode(mode), delay
        if self.mode in (Mode.RESET, Mode.CLOSE) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._cut_all)

    def start(self) -> FaultProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"fault-proxy-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"fault proxy on port {self.port} did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inside the loop ------------------------------------------------------

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._cut_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            _abort(writer, reset=self.mode is not Mode.CLOSE)
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = self.mode
        if mode is Mode.RESET:
            _abort(writer, reset=True)
            return
        if mode is Mode.CLOSE:
            await _close_cleanly(reader, writer)
            return
        self._writers.add(writer)
        try:
            if mode is Mode.BLACKHOLE:
                await _swallow(reader)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                _abort(writer, reset=True)  # the target is down: refuse like it would
                return
            self._writers.add(up_writer)
            await asyncio.gather(
                self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
            )
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(_CHUNK):
                if self.mode is Mode.BLACKHOLE:
                    continue  # a connection that goes silent mid-stream
                if self.mode is Mode.DELAY and self.delay > 0:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


async def _swallow(reader: asyncio.StreamReader) -> None:
    while await reader.read(_CHUNK):
        pass


async def _close_cleanly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send FIN and wait for the peer to hang up: closing with unread data would send RST."""
    with contextlib.suppress(Exception):
        writer.write_eof()
        await asyncio.wait_for(_swallow(reader), timeout=5)
    with contextlib.suppress(Exception):
        writer.close()


def _abort(writer: asyncio.StreamWriter, reset: bool) -> None:
    """Close a connection; with ``reset`` the peer gets an RST instead of a FIN."""
    with contextlib.suppress(Exception):
        if reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()
