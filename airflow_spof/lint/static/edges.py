"""Dependency edges: ``>>``, ``<<``, ``set_upstream``, ``chain`` and TaskGroups."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from airflow_spof.lint.model import PartialStr
from airflow_spof.lint.static.values import DagValue, GroupValue, LabelValue, TaskRef

_LEAVES = frozenset({str, PartialStr, int, float, bool, type(None), timedelta})


def is_task_like(value: Any) -> bool:
    if isinstance(value, (TaskRef, GroupValue, LabelValue)):
        return True
    return isinstance(value, (list, tuple)) and any(is_task_like(v) for v in value)


def endpoints(value: Any, side: str) -> list[tuple[DagValue, str]]:
    """Tasks an edge attaches to; a group exposes its leaves upstream and roots downstream."""
    if isinstance(value, TaskRef):
        return [(value.dag, t) for t in value.task_ids]
    if isinstance(value, GroupValue) and value.dag is not None:
        return [(value.dag, t) for t in _group_edge_tasks(value, side)]
    if isinstance(value, (list, tuple)):
        return [pair for inner in value for pair in endpoints(inner, side)]
    return []


def _group_edge_tasks(group: GroupValue, side: str) -> list[str]:
    assert group.dag is not None
    tasks = group.dag.dag.tasks
    members = [t for t in group.task_ids if t in tasks]
    member_set = set(members)
    if side == "down":
        return [t for t in members if not tasks[t].upstream & member_set]
    has_downstream = {u for t in members for u in tasks[t].upstream if u in member_set}
    return [t for t in members if t not in has_downstream]


def link(upstream: Any, downstream: Any) -> None:
    """Record that every task of ``upstream`` runs before every task of ``downstream``."""
    if isinstance(upstream, LabelValue):
        upstream = upstream.upstream
    for up_dag, up_id in endpoints(upstream, "up"):
        for down_dag, down_id in endpoints(downstream, "down"):
            if up_dag is down_dag and up_id != down_id and down_id in down_dag.dag.tasks:
                down_dag.dag.tasks[down_id].upstream.add(up_id)


def shift(left: Any, right: Any, forward: bool) -> Any:
    """``left >> right`` (forward) or ``left << right``; returns the right side like Airflow."""
    if isinstance(right, LabelValue) and forward:
        return LabelValue(left)
    if forward:
        link(left, right)
    else:
        link(right, left)
    return right


def chain(items: list[Any]) -> None:
    """``chain(a, [b, c], [d, e], f)``: equal-length lists pair up element by element."""
    for left, right in itertools.pairwise(items):
        if (
            isinstance(left, (list, tuple))
            and isinstance(right, (list, tuple))
            and len(left) == len(right)
        ):
            for a, b in zip(left, right, strict=True):
                link(a, b)
        else:
            link(left, right)


def cross(upstream: Any, downstream: Any) -> None:
    link(upstream, downstream)


def task_refs_in(value: Any, depth: int = 0) -> list[TaskRef]:
    """XComArgs passed as arguments make implicit upstream edges.

    Hot path (every task's merged arguments): only containers are descended into.
    """
    if isinstance(value, TaskRef):
        return [value]
    if depth > 3:
        return []
    if isinstance(value, dict):
        items: Iterable[Any] = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return []
    found: list[TaskRef] = []
    for inner in items:
        kind = type(inner)
        if kind in _LEAVES:
            continue
        if kind is TaskRef:
            found.append(inner)
        elif isinstance(inner, (dict, list, tuple)):
            found.extend(task_refs_in(inner, depth + 1))
    return found
