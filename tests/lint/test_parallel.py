"""Forked parallel runs: order kept, failures reported, no child left behind."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

from airflow_spof.lint.parallel import run_forked

FILES = [Path(f"f{n}.py") for n in range(11)]


def _names(share: list[Path]) -> list[tuple[str, int]]:
    return [(path.name, os.getpid()) for path in share]


def test_results_come_back_in_file_order_from_several_processes() -> None:
    outcomes = run_forked(FILES, 3, _names)
    assert [name for name, _ in outcomes] == [p.name for p in FILES]
    assert len({pid for _, pid in outcomes}) == 3 and outcomes[0][1] == os.getpid()


def test_a_worker_that_gets_no_cpu_leaves_the_free_chunks_to_the_others() -> None:
    """Chunks are taken on demand: while the child is stuck in its first chunk, the parent
    lints everything else (a static split would wait for the child's whole share)."""
    files = [Path(f"g{n}.py") for n in range(100)]
    parent = os.getpid()
    reached_end, signal_end = os.pipe()

    def work(chunk: list[Path]) -> list[tuple[str, int]]:
        if os.getpid() == parent and files[-1] in chunk:
            os.write(signal_end, b"x")
        elif os.getpid() != parent:  # held until the parent has reached the last file
            select.select([reached_end], [], [], 30)
        return _names(chunk)

    try:
        outcomes = run_forked(files, 2, work)
    finally:
        os.close(reached_end)
        os.close(signal_end)
    assert [name for name, _ in outcomes] == [p.name for p in files]
    by_child = [name for name, pid in outcomes if pid != parent]
    assert 0 < len(by_child) <= 5 and "g0.py" not in by_child and "g99.py" not in by_child


FAILING_RUN = """
import os
from pathlib import Path
from airflow_spof.lint.parallel import WorkerFailed, run_forked

parent = os.getpid()

def work(share):
    if os.getpid() != parent and Path("f1.py") in share:
        raise ValueError("boom in f1")
    return [p.name for p in share]

try:
    run_forked([Path(f"f{n}.py") for n in range(11)], 2, work)
except WorkerFailed as exc:
    print("reported:", exc)
try:
    os.waitpid(-1, os.WNOHANG)
    print("a worker was left behind")
except ChildProcessError:
    print("every worker was waited for")
"""


def test_a_failing_worker_is_reported_and_reaped() -> None:
    # In a process of its own: the test session's other children (servers started by
    # fixtures) would make "no child left" unobservable here.
    out = subprocess.run(
        [sys.executable, "-c", FAILING_RUN], capture_output=True, text=True, check=True
    ).stdout
    assert "reported: " in out and "ValueError: boom in f1" in out
    assert "every worker was waited for" in out


def test_cli_exits_2_when_a_worker_fails(tmp_path: Path, monkeypatch) -> None:
    from airflow_spof.lint import engine
    from airflow_spof.lint.cli import main

    for n in range(4):
        (tmp_path / f"dag_{n}.py").write_text("x = 1\n")
    real = engine.lint_file
    parent = os.getpid()

    def flaky(path: Path, *args: object) -> object:
        if os.getpid() != parent:
            raise RuntimeError("worker crashed")
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "lint_file", flaky)
    assert main([str(tmp_path), "--jobs", "2"]) == 2
