"""Source spans for findings."""

from __future__ import annotations

import ast

from airflow_spof.lint.model import Location


def location(path: str, node: ast.AST, first: ast.AST | None = None) -> Location:
    """A node's span; ``first`` (a decorator) widens where ``# noqa`` is accepted."""
    start = first or node
    line = getattr(start, "lineno", 1)
    end = getattr(node, "end_lineno", None) or line
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        end = node.lineno
    return Location(
        path=path,
        line=line,
        col=getattr(start, "col_offset", 0) + 1,
        end_line=end,
        end_col=(getattr(node, "end_col_offset", None) or 0) + 1,
        noqa_lines=tuple(range(line, end + 1)),
    )
