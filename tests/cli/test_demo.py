"""The demo scenario end to end, as a fresh process without the ``make`` bootstrap."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from airflow_spof.testing.waiting import port_open

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_all_four_steps_and_reports_the_fallback_and_the_repair(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    done = subprocess.run(
        [sys.executable, "-m", "airflow_spof.cli", "demo", "--report-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for title in ("Step 1", "Step 2", "Step 3", "Step 4", "all four steps passed"):
        assert title in done.stdout
    assert str(tmp_path / "report.html") in done.stdout

    report = json.loads((tmp_path / "report.json").read_text())
    healthy, outage, repair, lint = report["steps"]
    assert healthy["served_by"] == "s3:aws_use1/orders-landing-use1" and not healthy["fell_back"]
    assert len(healthy["written"]) == 3 and not healthy["lagging"]

    assert outage["fell_back"] and outage["served_by"] == "s3:aws_euw1/orders-landing-euw1"
    assert outage["fallback_from"] == ["s3:aws_use1/orders-landing-use1"]
    assert outage["lagging"] == ["s3:aws_use1/orders-curated-use1"] and len(outage["written"]) == 2
    assert "open" in outage["breakers"].values()

    assert repair["ok"] and "s3:aws_use1/orders-curated-use1" in repair["written"]
    for sums in repair["checksums"].values():
        assert len(sums) == 3 and len(set(sums.values())) == 1 and None not in sums.values()

    assert lint["details"]["dags_findings"] == 0 and lint["details"]["sample_findings"] > 5
    assert {"SPF101", "SPF301"} <= set(lint["details"]["by_rule"])

    page = (tmp_path / "report.html").read_text()
    assert page.count('<svg id="lineage"') == 2
    assert (
        'data-status="lagging"' in page
        and 'data-endpoint="s3:aws_euw1/orders-landing-euw1"' in page
    )
    # No region of ours outlived the demo: the ports it printed are closed again.
    ports = [int(p) for p in re.findall(r"on\s+http://127\.0\.0\.1:(\d+)", done.stdout)]
    assert len(ports) == 2 and not any(port_open(p) for p in ports)
