"""Where lint time goes: each phase's CPU time over bench_lint's corpus, one process.

Run: .venv/bin/python benchmarks/bench_lint_phases.py [--files 1000] [--repeat 3]

Each file goes through the steps of ``engine.lint_file`` one by one (read, ``ast.parse``,
interpret, rules, dedupe and sort, render), each timed with ``time.process_time``; the fastest of
``--repeat`` passes is printed per phase. The comparison named in the output is the
whole lint against a bare ``ast.parse`` of the same files, measured in the same run: the
part no change to the engine (short of a different parser) can remove.
"""

from __future__ import annotations

import argparse
import ast
import tempfile
import time
from pathlib import Path

from bench_lint import generate

from airflow_spof.lint.checks import check_module
from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.engine import _dedupe, _rare_collections, _release, build_scope
from airflow_spof.lint.model import Finding
from airflow_spof.lint.reporters.blocks import block_formats, render_block
from airflow_spof.lint.static.imports import ModuleLoader
from airflow_spof.lint.static.interpreter import Interpreter

PHASES = ("read", "parse", "interpret", "rules", "dedupe+sort", "render")


def one_pass(files: list[Path], root: Path) -> tuple[list[float], int]:
    """CPU seconds per phase over every file, and the number of tasks made."""
    cfg, loader = LintConfig(root=root), ModuleLoader([root], build_scope)
    fmt = block_formats(False)["text"]()
    spent, tasks, clock = [0.0] * len(PHASES), 0, time.process_time
    with _rare_collections():
        for path in files:
            marks = [clock()]
            source = path.read_bytes().decode("utf-8")
            marks.append(clock())
            tree = ast.parse(source, filename=str(path))
            marks.append(clock())
            interpreter = Interpreter(str(path), loader)
            module = interpreter.run(tree)
            interpreter.frames[0].clear()
            marks.append(clock())
            findings = check_module(module, cfg)
            marks.append(clock())
            findings = sorted(_dedupe(findings), key=Finding.sort_key)
            marks.append(clock())
            render_block(str(path), findings, fmt)
            marks.append(clock())
            tasks += sum(len(dag.tasks) for dag in module.dags)
            _release(module)
            for index in range(len(PHASES)):
                spent[index] += marks[index + 1] - marks[index]
    return spent, tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_lint_phases_") as work:
        corpus = Path(work) / "dags"
        generate(corpus, args.files)
        files = sorted(corpus.glob("*.py"))
        passes = [one_pass(files, corpus) for _ in range(args.repeat)]
    best = [min(spent[i] for spent, _ in passes) for i in range(len(PHASES))]
    tasks, total = passes[0][1], sum(best)
    print(f"{args.files} files, {tasks} tasks; CPU seconds, fastest of {args.repeat} passes:")
    for name, seconds in zip(PHASES, best, strict=True):
        print(f"  {name:12s} {seconds:6.3f} s  {seconds / total:5.1%}")
    print(f"  {'total':12s} {total:6.3f} s")
    interpret, rules = best[2], best[3]
    print(
        f"per task: interpret {interpret / tasks * 1e6:.1f} us, rules {rules / tasks * 1e6:.1f} us"
    )
    print(f"whole lint / bare ast.parse of the same files: {total / best[1]:.2f}x")
    print(f"reproduce: .venv/bin/python benchmarks/bench_lint_phases.py --files {args.files}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
