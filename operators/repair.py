"""ReplicaRepairOperator: drain hints and run anti-entropy on a replica set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowException

from airflow_spof.core.endpoints import Replicas
from airflow_spof.operators.base import SpofBaseOperator


class ReplicaRepairOperator(SpofBaseOperator):
    """Bring lagging replicas up to the agreed version; report what changed.

    :param prefix: only objects under this prefix (object replica sets).
    :param fail_if_unreachable: fail when a replica could not be reached, so
        an hourly repair DAG turns red while a region stays down (default:
        report it and succeed; the hints stay for the next run).
    """

    template_fields: Sequence[str] = ("prefix",)

    def __init__(
        self,
        *,
        replicas: Replicas,
        prefix: str = "",
        fail_if_unreachable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.replicas = replicas
        self.prefix = prefix
        self.fail_if_unreachable = fail_if_unreachable

    def execute(self, context: Any) -> dict[str, Any]:
        report = self.hook(self.replicas).repair(prefix=self.prefix)
        for change in report.repaired:
            self.log.info(
                "repaired %s %s from %s", change["endpoint"], change["item"], change["from"]
            )
        if report.unreachable:
            self.log.warning(
                "could not reach %s; their hints stay pending", sorted(report.unreachable)
            )
            if self.fail_if_unreachable:
                raise AirflowException(f"repair did not converge: unreachable {report.unreachable}")
        return report.to_dict()
