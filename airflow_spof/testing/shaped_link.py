"""A region's own network link for benchmarks: a namespace behind a veth pair shaped by tbf.

On loopback every replica shares one machine's CPU, so a 3-replica write
measures the CPU, not the links. Real regions each sit behind their own
link; here each server runs in its own network namespace (``ip netns exec``),
reached through its own veth pair whose two ends are rate-limited by a
token bucket (``tc qdisc ... tbf``), one direction each. Needs root, ``ip``
and ``tc``; ``netem`` (latency) is not required. Everything created is
removed on exit, on errors too, and namespaces left by a killed run are
removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

PREFIX = "spofwan"


class ShapedLink:
    """Namespace ``spofwan<pid>-<n>`` with address ``10.87.<n>.2``, rate ``mbit`` each way."""

    def __init__(self, number: int, mbit: float) -> None:
        if not 0 <= number < 250:
            raise ValueError("link number must be in 0..249")
        if not mbit > 0:
            raise ValueError(f"link rate must be a positive number of Mbit/s, got {mbit}")
        self.number = number
        self.mbit = mbit
        self.namespace = f"{PREFIX}{os.getpid()}-{number}"
        self.outer = f"sw{os.getpid() % 100000}o{number}"  # interface names: 15 chars at most
        self.inner = f"sw{os.getpid() % 100000}i{number}"
        self.host_address = f"10.87.{number}.1"
        self.address = f"10.87.{number}.2"
        self._made: list[str] = []  # what this link created, so close() removes only that

    @property
    def command_prefix(self) -> tuple[str, ...]:
        """Run a command inside the namespace (for ``MotoRegion(command_prefix=...)``)."""
        return ("ip", "netns", "exec", self.namespace)

    def __enter__(self) -> ShapedLink:
        remove_stale()
        try:
            _ip("netns", "add", self.namespace)
            self._made.append("namespace")
            _ip("link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
            self._made.append("link")
            _ip("link", "set", self.inner, "netns", self.namespace)
            _ip("addr", "add", f"{self.host_address}/30", "dev", self.outer)
            _ip("link", "set", self.outer, "up")
            inside = ("-n", self.namespace)
            _ip(*inside, "addr", "add", f"{self.address}/30", "dev", self.inner)
            _ip(*inside, "link", "set", self.inner, "up")
            _ip(*inside, "link", "set", "lo", "up")
            self._shape(self.outer)  # client -> server
            self._shape(self.inner, namespace=self.namespace)  # server -> client
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the namespace and the veth pair, if this link created them."""
        if "namespace" in self._made:
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "delete", self.namespace)
        if "link" in self._made:
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("link", "delete", self.outer)  # gone already if its peer's namespace went
        self._made.clear()

    def _shape(self, device: str, namespace: str | None = None) -> None:
        # The bucket must hold a whole GSO segment (64 KiB) or tbf drops it.
        burst = max(128 * 1024, int(self.mbit * 1e6 / 8 / 100))
        command = ["tc", "qdisc", "add", "dev", device, "root", "tbf"]
        command += ["rate", f"{self.mbit}mbit", "burst", str(burst), "latency", "100ms"]
        if namespace:
            command = ["ip", "netns", "exec", namespace, *command]
        subprocess.run(command, check=True, capture_output=True)


def remove_stale() -> None:
    """Delete namespaces (and their links) left by runs whose process no longer exists."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX) :].split("-")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "delete", name)
            number = name.rsplit("-", 1)[-1]
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("link", "delete", f"sw{int(pid) % 100000}o{number}")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)
