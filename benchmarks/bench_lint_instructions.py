"""Lint work in CPU instructions: this tree against a baseline revision, in the same run.

Run: .venv/bin/python benchmarks/bench_lint_instructions.py [--baseline REV] [--files 300]

Wall times on this shared VM drift by 30% within a minute, which hides a 5% change.
Instructions do not drift: ``valgrind --tool=cachegrind`` counts those of one process
linting a generated corpus (bench_lint's, ``--jobs 1``, text report), minus those of the
same process linting an empty folder (interpreter start-up and imports), for the working
tree and for ``--baseline`` checked out in a temporary worktree. Hash randomisation is
off, so a count repeats exactly. The report's SHA-1 is printed too: equal hashes mean the
two revisions reported the same findings. Needs valgrind (``apt install valgrind``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_lint import generate

REPO = Path(__file__).resolve().parents[1]
LINT = (
    "import sys\n"
    "from airflow_spof.lint.config import LintConfig\n"
    "from airflow_spof.lint.engine import lint_paths\n"
    "from airflow_spof.lint.reporters.blocks import block_formats\n"
    "from pathlib import Path\n"
    "fmt = block_formats(False)['text']()\n"
    "result = lint_paths([sys.argv[1]], LintConfig(root=Path(sys.argv[1])), jobs=1,\n"
    "                    keep_modules=False, fmt=fmt)\n"
    "sys.stdout.write(result.report or '')\n"
)


def instructions(source: Path, folder: Path, cache: Path) -> tuple[int, str]:
    """Instructions executed linting ``folder`` with the package at ``source``, and the
    report's SHA-1."""
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "PYTHONHASHSEED": "0",
        "PYTHONPYCACHEPREFIX": str(cache),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-c", LINT, str(folder)]
    # Run from the folder, not the repo: ``-c`` puts the working directory first on the
    # path, and the repo's own package would shadow the baseline's.
    warm = subprocess.run(command, env=env, cwd=folder, capture_output=True, check=True)
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
    valgrind.append("--cachegrind-out-file=/dev/null")
    done = subprocess.run(
        [*valgrind, *command], env=env, cwd=folder, capture_output=True, text=True, check=True
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    report = warm.stdout.replace(str(folder).encode(), b"<corpus>")  # the same in every run
    return int(found.group(1).replace(",", "")), hashlib.sha1(report).hexdigest()[:12]


def lint_work(source: Path, corpus: Path, empty: Path, cache: Path) -> tuple[int, str]:
    total, digest = instructions(source, corpus, cache)
    start_up, _ = instructions(source, empty, cache)
    return total - start_up, digest


def checked_out(source: Path) -> Path:
    """Where the package that ran was imported from (the check that PYTHONPATH won)."""
    done = subprocess.run(
        [sys.executable, "-c", "import airflow_spof; print(airflow_spof.__file__)"],
        env={**os.environ, "PYTHONPATH": str(source)},
        cwd=source.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip()).parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="164c3e2", help="revision to compare with")
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt install valgrind")
    work = Path(tempfile.mkdtemp(prefix="bench_lint_instr_"))
    baseline = work / "baseline"
    try:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline],
            check=True,
            capture_output=True,
        )
        corpus, empty = work / "dags", work / "empty"
        generate(corpus, args.files)
        empty.mkdir()
        for source in (baseline, REPO):
            if checked_out(source) != source:
                raise SystemExit(f"{source}: another airflow_spof shadows this one")
        old, old_digest = lint_work(baseline, corpus, empty, work / "pycache")
        new, new_digest = lint_work(REPO, corpus, empty, work / "pycache")
        print(f"corpus: {args.files} files of bench_lint.py's corpus; --jobs 1, text report")
        print(f"  baseline {args.baseline}: {old / 1e6:8.0f} M instructions, report {old_digest}")
        print(f"  this tree      : {new / 1e6:8.0f} M instructions, report {new_digest}")
        same = "the same report" if old_digest == new_digest else "reports differ"
        print(f"this tree / baseline: {new / old:.3f} ({same})")
        print(
            f"reproduce: {sys.executable} benchmarks/bench_lint_instructions.py "
            f"--baseline {args.baseline} --files {args.files}"
        )
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
            capture_output=True,
        )
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
