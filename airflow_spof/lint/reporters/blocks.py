"""Reports rendered by the worker that linted each file, concatenated by the parent.

A text or JSON report is one line per finding in sorted order, and findings sort by
path first. When every finding of a file points into that file (the usual case), the
file's lines are a contiguous run of the report: the worker renders them right after
linting it and sends back one string, its count and its worst severity, so the parent
neither unpickles ``Finding`` objects nor formats them. Findings that point elsewhere
(a replica set declared in a sibling module) come back as objects and are merged in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from airflow_spof.lint.model import Finding
from airflow_spof.lint.reporters.json import JsonLines
from airflow_spof.lint.reporters.text import summary, text_line

Block = tuple[str, str, int, int]
"""One file's report: its path, its lines joined, how many, the worst severity (0: none)."""


class BlockFormat(Protocol):
    """An output format made of one line per finding."""

    separator: str

    def line(self, finding: Finding) -> str: ...

    def wrap(self, pieces: list[str], count: int) -> str: ...


class TextFormat:
    """``render_text`` in pieces."""

    separator = "\n"

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def line(self, finding: Finding) -> str:
        return text_line(finding, self.colour)

    def wrap(self, pieces: list[str], count: int) -> str:
        return "\n".join([*pieces, summary(count)]) + "\n" if count else ""


class JsonFormat:
    """``render_json`` in pieces."""

    separator = ",\n"

    def __init__(self) -> None:
        self.line: Callable[[Finding], str] = JsonLines().line

    def wrap(self, pieces: list[str], count: int) -> str:
        return "[\n" + ",\n".join(pieces) + "\n]\n" if count else "[]\n"


def block_formats(colour: bool) -> dict[str, Callable[[], BlockFormat]]:
    """The formats that can be rendered per file, by ``--format`` name."""
    return {"text": lambda: TextFormat(colour), "json": JsonFormat}


def render_block(path: str, findings: list[Finding], fmt: BlockFormat) -> Block | None:
    """The file's lines, or None when a finding points into another file."""
    worst = 0
    for finding in findings:
        if finding.where.path != path:
            return None
        if finding.severity > worst:
            worst = finding.severity
    return path, fmt.separator.join(map(fmt.line, findings)), len(findings), worst


def assemble(parts: list[Block | list[Finding]], fmt: BlockFormat) -> tuple[str, int]:
    """The whole report from per-file parts in file order, and the worst severity.

    Raises ``Collision`` when a loose finding shares a path with a block (its lines would
    interleave with the block's: the caller renders that file anew)."""
    loose = [f for part in parts if isinstance(part, list) for f in part]
    foreign = {f.where.path for f in loose}
    items: list[tuple[tuple[str, int, int, str] | tuple[str], str]] = []
    count = worst = 0
    for part in parts:
        if isinstance(part, list):
            items.extend((f.sort_key(), fmt.line(f)) for f in part)
            count += len(part)
            worst = max([worst, *(f.severity for f in part)])
            continue
        path, text, size, severity = part
        if path in foreign:
            raise Collision(path)
        if size:
            items.append(((path,), text))
            count += size
            worst = max(worst, severity)
    items.sort(key=lambda item: item[0])
    return fmt.wrap([text for _, text in items], count), worst


class Collision(Exception):
    """A file's block must be merged finding by finding: ``args[0]`` is its path."""
