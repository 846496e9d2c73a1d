"""Send Airflow's console logging to a file while our own output stays on the terminal.

``dag.test()`` prints every task log line to stdout; the demo and the drill
show a short progress view instead and point at the full log. Redirecting
the file descriptors (not just ``sys.stdout``) also catches loggers that
captured the stream before we started.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def terminal_only(log_path: Path) -> Iterator[TextIO]:
    """Redirect fds 1 and 2 to ``log_path``; yield a stream that still reaches the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (saved_out, saved_err, log_fd):
            os.close(fd)
        terminal.close()
