"""The quality gate: great-expectations validation of what a source returned.

Data that fails is INVALID_DATA, so failover tries the next source instead of
passing bad data downstream. One ephemeral context per process (no files, no
network, no progress bars); great-expectations is imported only when a gate
is actually used, since its import alone takes seconds.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_spof.core.errors import InvalidData, PermanentError

ExpectationSpec = Mapping[str, Any] | Any  # {"type": ..., "kwargs": {...}} or a gx Expectation


class QualityGateFailed(InvalidData):
    def __init__(self, summary: dict[str, Any]) -> None:
        failed = ", ".join(f"{f['type']}({f['column'] or ''})" for f in summary["failed"])
        super().__init__(f"quality gate rejected the data: {failed}")
        self.summary = summary


class QualityGateMisconfigured(PermanentError):
    """The expectations themselves are wrong (unknown type, bad kwargs): no source is to blame."""


_lock = threading.Lock()
_names = itertools.count()


@functools.cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def rows_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A DataFrame of ``rows``. A query's ``columns`` keep their names when it returned no
    rows, so the gate judges an empty table with those columns, not one without any."""
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(dict.fromkeys(columns)) if columns else None)


class QualityGate:
    """Expectations as plain dicts (serialisable, templatable) or gx Expectation objects."""

    def __init__(self, expectations: Sequence[ExpectationSpec]) -> None:
        if not expectations:
            raise ValueError("a quality gate needs at least one expectation")
        for spec in expectations:
            if isinstance(spec, Mapping) and "type" not in spec:
                raise ValueError(f"expectation {dict(spec)!r} has no 'type'")
        self.expectations = list(expectations)

    def _suite(self, name: str) -> Any:
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        built = []
        for spec in self.expectations:
            if isinstance(spec, Mapping):
                config = ExpectationConfiguration(
                    type=spec["type"], kwargs=dict(spec.get("kwargs", {}))
                )
                built.append(config.to_domain_obj())
            else:
                built.append(spec.copy() if hasattr(spec, "copy") else spec)
        return gx.ExpectationSuite(name=name, expectations=built)

    def validate(self, frame: Any) -> dict[str, Any]:
        """Return a summary; raise :class:`QualityGateFailed` (INVALID_DATA) when it fails."""
        with _lock:
            context = _context()
            name = f"spof_{next(_names)}"
            try:
                suite = self._suite(name)
            except Exception as exc:  # a typo in the DAG must not count against endpoints
                raise QualityGateMisconfigured(
                    f"quality gate expectations are invalid: {type(exc).__name__}: {exc}"
                ) from None
            source = context.data_sources.add_pandas(name)
            try:
                batch = (
                    source.add_dataframe_asset("data")
                    .add_batch_definition_whole_dataframe("all")
                    .get_batch(batch_parameters={"dataframe": frame})
                )
                result = batch.validate(suite)
            finally:
                context.data_sources.delete(name)
        summary = {
            "success": bool(result.success),
            "evaluated": result.statistics["evaluated_expectations"],
            "successful": result.statistics["successful_expectations"],
            "rows": len(frame),
            "failed": [
                {
                    "type": r.expectation_config.type,
                    "column": r.expectation_config.kwargs.get("column"),
                    "unexpected_count": (r.result or {}).get("unexpected_count"),
                }
                for r in result.results
                if not r.success
            ],
        }
        if not summary["success"]:
            raise QualityGateFailed(summary)
        return summary
