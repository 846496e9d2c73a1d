"""Rules about replica sets that look redundant but are not."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import ReplicaSet, Severity
from airflow_spof.lint.rules.base import Rule


def _shared_endpoint(rs: ReplicaSet, cfg: LintConfig) -> Iterable[str]:
    if rs.endpoints is None:
        return
    if len(rs.endpoints) == 1:
        yield "replica set has a single endpoint: there is nothing to fail over to"
        return
    for label, values in (
        ("connection", [e.conn_id for e in rs.endpoints if isinstance(e.conn_id, str)]),
        # Bucket names and paths are global; a table name only means something per connection.
        (
            "location",
            [e.location for e in rs.endpoints if isinstance(e.location, str) and e.kind != "sql"],
        ),
    ):
        shared = sorted({v for v in values if values.count(v) > 1})
        if shared:
            yield (
                f"replica set endpoints share {label} {', '.join(repr(s) for s in shared)}: "
                "one outage takes out several replicas"
            )


def _single_region(rs: ReplicaSet, cfg: LintConfig) -> Iterable[str]:
    if rs.endpoints is None or len(rs.endpoints) < 2:
        return
    regions = [e.region for e in rs.endpoints]
    if not all(isinstance(r, str) and r for r in regions):
        return
    distinct = set(regions)
    wanted = rs.min_regions if isinstance(rs.min_regions, int) else 1
    if len(distinct) < max(2, wanted):
        yield (
            f"all {len(regions)} replicas are in {len(distinct)} region(s) "
            f"({', '.join(sorted(distinct))}): a regional outage takes out every copy"
        )


def _write_all(rs: ReplicaSet, cfg: LintConfig) -> Iterable[str]:
    wc = rs.write_consistency
    count = len(rs.endpoints) if rs.endpoints is not None else None
    if wc == "all" or (isinstance(wc, int) and count is not None and count > 1 and wc >= count):
        yield (f"write_consistency={wc!r} needs every replica: any single outage fails the write")


SHARED_ENDPOINT = Rule(
    code="SPF102",
    name="fake-redundancy",
    severity=Severity.ERROR,
    summary="A replica set's endpoints share a connection, bucket, table or path.",
    rationale=(
        "Two replicas behind the same connection or in the same bucket are one replica "
        "counted twice: the same credentials, the same endpoint and the same outage. The "
        "replica set looks redundant in review and fails as a unit in production."
    ),
    bad=(
        'Replicas(s3("aws_use1", bucket="orders", region="us-east-1"),\n'
        '         s3("aws_use1", bucket="orders-copy", region="us-east-1"))'
    ),
    good=(
        'Replicas(s3("aws_use1", bucket="orders-use1", region="us-east-1"),\n'
        '         s3("aws_euw1", bucket="orders-euw1", region="eu-west-1"))'
    ),
    fix="Give each replica its own connection and its own storage location.",
    scope="replicas",
    replica_check=_shared_endpoint,
)

SINGLE_REGION = Rule(
    code="SPF103",
    name="single-region-replicas",
    severity=Severity.ERROR,
    summary="Every replica of a set sits in the same region (or fewer than `min_regions`).",
    rationale=(
        "Regional outages are the failures replicas exist for. Copies that share a region "
        "survive a disk or node failure but not the outage that actually takes pipelines "
        "down for hours."
    ),
    bad=(
        'Replicas(s3("aws_a", bucket="orders-a", region="us-east-1"),\n'
        '         s3("aws_b", bucket="orders-b", region="us-east-1"))'
    ),
    good=(
        'Replicas(s3("aws_a", bucket="orders-a", region="us-east-1"),\n'
        '         s3("aws_b", bucket="orders-b", region="eu-west-1"), min_regions=2)'
    ),
    fix="Place at least one replica in another region and set `min_regions=2`.",
    scope="replicas",
    replica_check=_single_region,
)

WRITE_ALL = Rule(
    code="SPF104",
    name="write-all-consistency",
    severity=Severity.WARNING,
    summary='A replica set writes with `write_consistency="all"`.',
    rationale=(
        'With "all" a write succeeds only when every replica acknowledges, so the set is '
        "less available than any one of its members: one replica down fails every write. "
        'Use "quorum" and let repair (hinted handoff) bring the missing replica up to date.'
    ),
    bad=(
        'Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),\n'
        '         write_consistency="all")'
    ),
    good=(
        'Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),\n'
        '         write_consistency="quorum")'
    ),
    fix=(
        'Use write_consistency="quorum" (or an integer below the replica count) and '
        "schedule ReplicaRepairOperator."
    ),
    scope="replicas",
    replica_check=_write_all,
)
