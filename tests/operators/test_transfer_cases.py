"""FailoverTransferOperator edges: a change of key and format, a gated copy in one format."""

from __future__ import annotations

import io
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from airflow_spof.testing.dagrun import run_dag

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)


@pytest.fixture
def nfs(env) -> Path:
    root = Path(env.nfs_root)
    for name in ("xfer-src-a", "xfer-src-b", "xfer-dst"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    return root


def test_a_transfer_lands_at_destination_key_in_its_format(nfs, cases) -> None:
    """orders.csv -> orders.parquet: the copy must land at destination_key (the streamed copy
    wrote orders.csv and reported orders.parquet), converted to the format that key names."""
    (nfs / "xfer-src-a" / "orders.csv").write_bytes(b"order_id,amount\n1,9.5\n2,3.0\n")
    result = run_dag(cases.get_dag("spof_transfer_csv_to_parquet"), DAY)
    assert result.succeeded, result.task_states
    frame = pd.read_parquet(io.BytesIO((nfs / "xfer-dst" / "orders.parquet").read_bytes()))
    assert frame.to_dict(orient="records") == [
        {"order_id": 1, "amount": 9.5},
        {"order_id": 2, "amount": 3.0},
    ]


def test_a_gated_transfer_in_one_format_copies_the_bytes_it_checked(nfs, cases) -> None:
    """The gate parses the data to check it; the copy must still be the source's bytes, not a
    re-serialisation that turns the string "02134" into 2134 and dates into timestamps."""
    data = (json.dumps({"zip": "02134", "ordered_at": "2026-11-27", "note": "ü"}) + "\n").encode()
    (nfs / "xfer-src-a" / "orders.jsonl").write_bytes(data)
    result = run_dag(cases.get_dag("spof_gated_transfer_same_format"), DAY)
    assert result.succeeded, result.task_states
    assert (nfs / "xfer-dst" / "orders.jsonl").read_bytes() == data
