"""S3 replication cost: 3 replicas vs 1 (same run), and peak memory of a 1 GiB stream.

(a) The same streamed payload written through FanOut + replicate to one
    moto region, then to three (three moto_server processes), alternating,
    median of several runs. Goal: 3 replicas <= 1.3x the time of 1.
(b) A 1 GiB object, generated as a stream (never held in memory), streamed to
    three regions by a child process whose peak RSS (ru_maxrss) is reported.
    Goal: < 200 MiB.

    .venv/bin/python benchmarks/bench_s3.py            # both
    .venv/bin/python benchmarks/bench_s3.py ratio      # (a) only
    .venv/bin/python benchmarks/bench_s3.py rss        # (b) only
    .venv/bin/python benchmarks/bench_s3.py ratio --wan-mbit 200

``--wan-mbit N`` (root, ``ip`` and ``tc``) runs (a) twice: on loopback, then with each
region in its own network namespace behind its own N Mbit/s link (tbf, each way), as
separate regions would be: the links, not the one shared CPU, may then be the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="spof-bench-home-"))
os.environ["AIRFLOW__SPOF__CHAOS_VARIABLE"] = "false"

from airflow_spof.core.endpoints import Endpoint, Replicas, s3
from airflow_spof.core.fanout import FanOut
from airflow_spof.core.replication import WriteAck, replicate
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.s3_backend import DEFAULT_PART_SIZE, S3Backend
from airflow_spof.hooks.shared_digest import DigestedChunks, SharedDigest
from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.shaped_link import ShapedLink

MiB = 1024 * 1024
CHUNK = 1 * MiB
RATIO_PAYLOAD = 64 * MiB
RATIO_RUNS = 3
RSS_PAYLOAD = 1024 * MiB
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
BUCKET = "spof-bench"


def payload(size: int, salt: int) -> Iterator[bytes]:
    """``size`` bytes as fresh 1 MiB chunks made on the fly (as a file or socket would
    produce them: every chunk a new object); ``salt`` makes each run's content distinct."""
    block = os.urandom(CHUNK - 16)
    for index in range(size // CHUNK):
        yield salt.to_bytes(8, "big") + index.to_bytes(8, "big") + block


def endpoints_for(regions: list[MotoRegion]) -> list[Endpoint]:
    return [s3(f"bench_{i}", bucket=BUCKET, region=r.region_name) for i, r in enumerate(regions)]


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU time used so far by this process and by the given server processes."""
    import psutil

    own = resource.getrusage(resource.RUSAGE_SELF)
    servers = sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)
    return own.ru_utime + own.ru_stime, servers


def write(endpoints: list[Endpoint], backends: dict[str, S3Backend], key: str, size: int) -> float:
    """Stream one payload to every endpoint (read and hashed once, as ReplicatedHook.write
    does); seconds until all acknowledged."""
    replicas = Replicas(*endpoints, write_consistency="all")
    digest = SharedDigest()
    fan = FanOut(digest.feed(payload(size, time.monotonic_ns())), consumers=len(endpoints))
    index = {ep.name: i for i, ep in enumerate(endpoints)}

    def one(ep: Endpoint) -> WriteAck:
        try:
            return backends[ep.name].write(key, DigestedChunks(fan.stream(index[ep.name]), digest))
        finally:
            fan.abandon(index[ep.name])

    started = time.perf_counter()
    replicate(replicas, one, item=key)
    return time.perf_counter() - started


def start_regions(stack: ExitStack, wan_mbit: float | None = None) -> list[MotoRegion]:
    """One moto server per region; with ``wan_mbit``, each behind its own shaped link."""
    regions = []
    for number, name in enumerate(REGIONS):
        if wan_mbit:
            link = stack.enter_context(ShapedLink(number, wan_mbit))
            region = MotoRegion(
                region_name=name, host=link.address, command_prefix=link.command_prefix
            )
        else:
            region = MotoRegion(region_name=name)
        region = stack.enter_context(region)
        region.create_bucket(BUCKET)
        regions.append(region)
    for i, region in enumerate(regions):
        os.environ.__setitem__(*region.connection_env(f"bench_{i}"))
    return regions


def bench_ratio(wan_mbit: float | None = None) -> dict[str, float]:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    with ExitStack() as stack:
        regions = start_regions(stack, wan_mbit)
        endpoints = endpoints_for(regions)
        backends = {ep.name: S3Backend(ep, Timeouts(connect=5, read=60)) for ep in endpoints}
        write(endpoints[:1], backends, "warmup", 8 * MiB)
        write(endpoints, backends, "warmup", 8 * MiB)
        pids = [r.process.pid for r in regions if r.process is not None]
        one: list[float] = []
        three: list[float] = []
        cpu = {"one": [0.0, 0.0], "three": [0.0, 0.0]}
        for run in range(RATIO_RUNS):
            for name, targets, times in (("one", endpoints[:1], one), ("three", endpoints, three)):
                before = cpu_seconds(pids)
                times.append(write(targets, backends, f"{name}-{run}", RATIO_PAYLOAD))
                after = cpu_seconds(pids)
                cpu[name][0] += (after[0] - before[0]) / RATIO_RUNS
                cpu[name][1] += (after[1] - before[1]) / RATIO_RUNS
    result = {"one_s": statistics.median(one), "three_s": statistics.median(three)}
    result.update(
        one_client_cpu=cpu["one"][0],
        one_server_cpu=cpu["one"][1],
        three_client_cpu=cpu["three"][0],
        three_server_cpu=cpu["three"][1],
    )
    result["ratio"] = result["three_s"] / result["one_s"]
    mb = RATIO_PAYLOAD / MiB
    where = f"each region behind its own {wan_mbit:g} Mbit/s link" if wan_mbit else "loopback"
    print(f"(a) {mb:.0f} MiB streamed, median of {RATIO_RUNS} runs each, same run ({where})")
    print(f"    load average before: {load} on {os.cpu_count()} cores")
    print(f"    1 replica  (baseline): {result['one_s']:.2f} s  ({mb / result['one_s']:.0f} MiB/s)")
    print(f"    3 replicas           : {result['three_s']:.2f} s")
    for name in ("one", "three"):
        print(
            f"    CPU per run, {name}: client {result[name + '_client_cpu']:.2f} s, "
            f"moto servers {result[name + '_server_cpu']:.2f} s (2 cores in all)"
        )
    verdict = "met" if result["ratio"] <= 1.3 else "NOT met"
    print(f"    ratio 3 vs 1: {result['ratio']:.2f}x (goal <= 1.3x: {verdict})")
    return result


def rss_child() -> None:
    """Runs in a fresh interpreter: stream 1 GiB to three regions, report own peak RSS."""
    endpoints = [Endpoint.from_dict(e) for e in json.loads(sys.argv[2])]
    part = int(sys.argv[3])
    backends = {
        ep.name: S3Backend(ep, Timeouts(connect=5, read=120), part_size=part) for ep in endpoints
    }
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = write(endpoints, backends, "one-gib.bin", RSS_PAYLOAD)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, "rss_before_mib": before}))


def bench_rss() -> list[dict[str, float]]:
    results = []
    for part in (DEFAULT_PART_SIZE, 8 * MiB):  # the default, and fixed 8 MiB parts for comparison
        with ExitStack() as stack:
            endpoints = json.dumps([e.to_dict() for e in endpoints_for(start_regions(stack))])
            child = subprocess.run(
                [sys.executable, __file__, "rss-child", endpoints, str(part)],
                capture_output=True,
                text=True,
                check=True,
            )
        result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
        verdict = "met" if result["peak_rss_mib"] < 200 else "NOT met"
        print(
            f"(b) 1 GiB streamed to 3 S3 replicas, {part // MiB} MiB parts: "
            f"{result['seconds']:.1f} s"
        )
        print(
            f"    peak RSS of the writing process: {result['peak_rss_mib']:.0f} MiB "
            f"(goal < 200 MiB: {verdict}); after imports, before writing: "
            f"{result['rss_before_mib']:.0f} MiB, so streaming added "
            f"{result['peak_rss_mib'] - result['rss_before_mib']:.0f} MiB"
        )
        results.append(result)
    return results


def main() -> int:
    if sys.argv[1:2] == ["rss-child"]:
        rss_child()
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", nargs="?", choices=["all", "ratio", "rss"], default="all")
    parser.add_argument(
        "--wan-mbit",
        type=float,
        help="also run (a) with each region behind its own N Mbit/s link (root, ip and tc)",
    )
    args = parser.parse_args()
    if args.what in ("all", "ratio"):
        bench_ratio()
        if args.wan_mbit:
            bench_ratio(args.wan_mbit)
    if args.what in ("all", "rss"):
        bench_rss()
    wan = f" --wan-mbit {args.wan_mbit:g}" if args.wan_mbit else ""
    print(f"reproduce: .venv/bin/python benchmarks/bench_s3.py {args.what}{wan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
