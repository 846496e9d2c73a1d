"""A password planted in the connections never reaches a report, an exception or a log."""

from __future__ import annotations

import json
import logging
import os
import traceback
from typing import Any

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Replicas, sql
from airflow_spof.core.errors import SpofError
from airflow_spof.core.failover import AllEndpointsFailed, FailoverPolicy, failover
from airflow_spof.core.replication import ConsistencyNotReached, replicate
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.hooks.backend import open_backend
from airflow_spof.hooks.sql_errors import SqlPermanentError
from airflow_spof.testing.waiting import free_port


@pytest.fixture
def down_conn(secret: str) -> Any:
    """A connection to a port nothing listens on, carrying the planted password."""
    os.environ["AIRFLOW_CONN_SPOF_PG_DOWN"] = (
        f"postgresql://postgres:{secret}@127.0.0.1:{free_port()}/postgres"
    )
    yield "spof_pg_down"
    os.environ.pop("AIRFLOW_CONN_SPOF_PG_DOWN")


def _everything(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_planted_password_never_leaks(
    tables: Any, rows: Any, secret: str, down_conn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        down = sql(down_conn, table=tables.name, key="id", name="down", region="x")
        missing = tables.endpoint("pg1", table="missing_table")
        good = tables.endpoint("pg2")
        backends = {ep.name: open_backend(ep) for ep in (down, missing, good)}
        assert all(b.secrets == (secret,) for b in backends.values())
        texts: list[str] = [repr(b) for b in backends.values()]

        replicas = Replicas(down, missing, good, write_consistency="all")
        with pytest.raises(ConsistencyNotReached) as not_reached:
            replicate(replicas, lambda ep: backends[ep.name].upsert(rows(5)), item="t")
        texts += [_everything(not_reached.value), json.dumps(not_reached.value.report.to_dict())]

        with pytest.raises(SpofError) as permanent:
            backends["pg1"].query("SELECT * FROM nowhere WHERE secret = :s", {"s": secret})
        texts.append(_everything(permanent.value))

        policy = FailoverPolicy(retry=RetryPolicy(attempts=1))
        value, report = failover(
            [down, good], lambda ep: backends[ep.name].query("SELECT 1 AS x"), policy=policy
        )
        assert value == [{"x": 1}] and report.served_by == "pg2"
        texts.append(json.dumps(report.to_dict()))
        with chaos.inject("pg2=error"), pytest.raises(AllEndpointsFailed) as failed:
            failover([down, good], lambda ep: backends[ep.name].probe(), policy=policy)
        texts += [_everything(failed.value), json.dumps(failed.value.report.to_dict())]
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    texts.append(caplog.text)
    assert "Connection refused" in str(not_reached.value)  # the failure paths really ran
    assert "missing_table" in str(not_reached.value)
    assert "nowhere" in str(permanent.value) and "SELECT" in caplog.text
    for text in texts:
        assert secret not in text


def test_password_in_a_dag_url_is_refused_without_echoing_it(secret: str) -> None:
    url = f"postgresql://postgres:{secret}@127.0.0.1:5432/postgres"
    with pytest.raises(SqlPermanentError, match="carries a password") as caught:
        open_backend(sql(url, table="t", key="id", name="inline"))
    assert secret not in _everything(caught.value)


def test_password_is_masked_in_task_logs(tables: Any, secret: str) -> None:
    from airflow.sdk.log import redact

    open_backend(tables.endpoint("pg1"))
    assert secret not in str(redact(f"connecting with {secret}"))
