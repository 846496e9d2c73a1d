"""Code of which only one part runs (if/else, try/except, ``a if c else b``), read statically.

When the condition is unknown every part is followed from the same state, and a name
they bind differently holds what they agree on: the tasks of both (either may run before
what follows), an equal value, or UNKNOWN, so rules stay silent instead of guessing.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_spof.lint.model import UNKNOWN, PartialStr
from airflow_spof.lint.static.builtins import KNOWN_SCALARS
from airflow_spof.lint.static.values import OpenDict, TaskRef

if TYPE_CHECKING:
    from airflow_spof.lint.static.interpreter import Interpreter


def mentions_main(test: ast.expr) -> bool:
    """``if __name__ == "__main__":`` (in any spelling): the block only runs as a script."""
    if isinstance(test, ast.BoolOp):
        return any(mentions_main(value) for value in test.values)
    if isinstance(test, ast.UnaryOp):
        return mentions_main(test.operand)
    if isinstance(test, ast.Compare):
        return any(mentions_main(side) for side in (test.left, *test.comparators))
    if isinstance(test, ast.Constant):
        return isinstance(test.value, str) and "__main__" in test.value
    if isinstance(test, ast.Name):
        return "__main__" in test.id
    return False


def run_alternatives(it: Interpreter, blocks: list[list[ast.stmt]]) -> None:
    """Run blocks of which one runs, each from the state before them, then merge what they
    bound (a name only some of them bind keeps its value)."""
    frame = it.frames[-1]
    before = dict(frame)
    outcomes: list[dict[str, Any]] = []
    outer = it.branch_path
    it.branch_count += 1
    point = it.branch_count
    try:
        for index, block in enumerate(blocks):
            if index:
                outcomes.append(dict(frame))
                frame.clear()
                frame.update(before)
            it.branch_path = (*outer, (point, index))
            it.exec_block(block)
    finally:
        it.branch_path = outer
    for outcome in outcomes:
        for name, value in outcome.items():
            other = frame.get(name, value)
            frame[name] = value if other is value else either(value, other)


def either(first: Any, second: Any) -> Any:
    """A value that is ``first`` or ``second`` depending on run time: tasks from both
    branches (either may run before what follows), what equal values and dicts agree on,
    the later of two DAGs, groups or factories (as before); UNKNOWN when they differ."""
    if first is second:
        return first
    if isinstance(first, TaskRef) or isinstance(second, TaskRef):
        refs = [v for v in (first, second) if isinstance(v, TaskRef)]
        if len(refs) == 2 and first.dag is second.dag:
            return TaskRef(first.dag, list(dict.fromkeys([*first.task_ids, *second.task_ids])))
        others = [v for v in (first, second) if not isinstance(v, TaskRef)]
        return refs[0] if len(refs) == 1 and others[0] in (None, UNKNOWN) else UNKNOWN
    kind = type(first)
    if kind is not type(second):
        return UNKNOWN
    if kind in KNOWN_SCALARS or kind is timedelta:
        return first if first == second else UNKNOWN
    if kind is dict or kind is OpenDict:
        merged = {k: either(first[k], second[k]) if k in second else UNKNOWN for k in first}
        merged.update((k, UNKNOWN) for k in second if k not in first)
        return kind(merged)
    if kind in (list, tuple, PartialStr):
        return UNKNOWN
    return second
