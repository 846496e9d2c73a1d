"""Which local paths a classic operator writes or reads, from its arguments."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_spof.lint.model import PathUse

_SHELL_PATH = re.compile(
    r"(?P<pre>(?:>>?|-o|--output(?:-file)?|of=|tee(?:\s+-a)?|<)?\s*)"
    # Jinja ``{{ ds }}`` (spaces and all), ``${VAR}`` and unresolved ``{?}`` stay in the path.
    r"(?P<path>(?<![\w:/.])(?:/|~/)(?:\{\{[^{}]*\}\}|\{[^{}\s]*\}|[\w.\-/*$?])+)"
)
_WRITE_PREFIX = re.compile(r"^(>>?|-o|--output(-file)?|of=|tee(\s+-a)?)")
_WRITE_KWARGS = re.compile(r"^(output|out|dest|dst|target|save)(_|$)|_(output|dest)(_|$)")
_READ_KWARGS = re.compile(r"^(input|in|src|source|read)(_|$)|_(input|source)(_|$)")
_PATH_KWARGS = re.compile(r"(path|file|filename|filepath|dir|directory|src|dst|dest|folder)s?$")


_SEGMENTS = re.compile(r"&&|\|\||;|\||\n")
_TO_LOCAL = re.compile(r"To(Local|File)")
_COPY_COMMANDS = re.compile(
    r"^\s*(sudo\s+)?(cp|scp|mv|rsync|aws\s+s3\s+cp|gsutil\s+cp|hdfs\s+dfs\s+-get)\b"
)


_PRINTS = re.compile(r"^\s*(echo|printf)\b")


def without_prints(command: str) -> str:
    """The command minus its ``echo``/``printf`` parts: a URL they print is not a host the
    command talks to."""
    if "echo" not in command and "printf" not in command:
        return command
    return "\n".join(s for s in _SEGMENTS.split(command) if not _PRINTS.match(s))


def bash_paths(command: str) -> list[PathUse]:
    """Paths in a shell command: after ``>``/``-o``/``tee``, or a copy's target, are written."""
    uses: list[PathUse] = []
    for segment in _SEGMENTS.split(command):
        found = _segment_paths(segment)
        if found and _COPY_COMMANDS.match(segment) and found[-1].mode == "unknown":
            found[-1] = PathUse(found[-1].path, "write")
        uses.extend(found)
    return uses


def _segment_paths(command: str) -> list[PathUse]:
    uses: list[PathUse] = []
    for match in _SHELL_PATH.finditer(command):
        path = match.group("path")
        if path.count("/") < 2 and not path.startswith("~"):
            continue
        pre = match.group("pre").strip()
        if _WRITE_PREFIX.match(pre):
            mode = "write"
        elif pre == "<":
            mode = "read"
        else:
            mode = "unknown"
        uses.append(PathUse(path, mode))
    return uses


def operator_paths(operator: str, kwargs: Mapping[str, Any]) -> list[PathUse]:
    """Local paths in operator arguments with the direction the operator implies."""
    uses: list[PathUse] = []
    command = kwargs.get("bash_command")
    for text in (command,) if isinstance(command, str) else strings_in(command):
        uses.extend(bash_paths(text))  # a list: the commands a mapped task runs
    direction = _transfer_direction(operator, kwargs)
    for key, value in kwargs.items():
        if key == "bash_command" or "remote" in key:
            continue
        if isinstance(value, str):
            if value.startswith(("/", "~/")) and "://" not in value:
                uses.append(PathUse(value, _mode_for(key, direction)))
            continue
        outer = _mode_for(key, direction)
        for inner, text in _keyed_strings(value, key):
            if not text.startswith(("/", "~/")) or "://" in text:
                continue
            mode = _mode_for(inner.lower(), direction) if inner != key else outer
            uses.append(PathUse(text, outer if mode == "unknown" else mode))
    return uses


def _keyed_strings(value: Any, key: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Like ``strings_in``, with the name of the nearest dict key each string is under
    (``op_kwargs={"output_path": ...}`` is written by the task)."""
    if isinstance(value, str):
        yield key, value
    elif depth < 3 and isinstance(value, Mapping):
        for inner_key, inner in value.items():
            yield from _keyed_strings(inner, str(inner_key), depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple)):
        for inner in value:
            yield from _keyed_strings(inner, key, depth + 1)


def _transfer_direction(operator: str, kwargs: Mapping[str, Any]) -> str:
    if _TO_LOCAL.search(operator):
        return "write"
    if operator.startswith(("Local", "File")) and "To" in operator:
        return "read"
    if operator == "SFTPOperator":
        operation = str(kwargs.get("operation", "put")).lower()
        return "write" if operation == "get" else "read"
    return "unknown"


def _mode_for(key: str, direction: str) -> str:
    if _WRITE_KWARGS.search(key):
        return "write"
    if _READ_KWARGS.search(key):
        return "read"
    if direction != "unknown" and _PATH_KWARGS.search(key):
        return direction
    return "unknown"


def strings_in(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string in a value, looking three levels into dicts, lists and tuples."""
    if isinstance(value, str):
        yield value
    elif depth < 3 and isinstance(value, Mapping):
        for inner in value.values():
            yield from strings_in(inner, depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple)):
        for inner in value:
            yield from strings_in(inner, depth + 1)
