"""Headless Chromium logs in to the Airflow UI and reads the Resilience page in its iframe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium` "
            "(.ci/run does this when it is missing)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise RuntimeError(
            "playwright is missing: `pip install -e '.[dev]' -c constraints.txt` "
            "(it drives the system chromium; no browser download is needed)"
        ) from exc
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(page: Any, base_url: str, username: str, password: str, target: str) -> None:
    """Open ``target``; the UI sends us to its login form, then back to ``target``."""
    page.goto(f"{base_url}{target}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"**{target}*", timeout=60_000)


def test_resilience_page_inside_the_airflow_ui(outage: Any, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    page = context.new_page()
    try:
        _check_pages(outage, page)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)  # what the browser saw, for whoever debugs this
        page.screenshot(path=str(ARTIFACTS / "ui-failure.png"), full_page=True)
        (ARTIFACTS / "ui-failure.html").write_text(
            page.content() + "".join(f.content() for f in page.frames[1:])
        )
        raise
    finally:
        context.close()


def _check_pages(outage: Any, page: Any) -> None:
    """The Resilience page, then the task-instance tab, each inside the UI's iframe."""
    _login(page, outage.base_url, "admin", outage.password_of("admin"), "/plugin/resilience")
    frame = page.frame_locator("iframe[title='Resilience']")
    failover = frame.locator("tr.event[data-kind='failover']")
    failover.first.wait_for(timeout=60_000)
    assert failover.count() == 1
    row = failover.first.inner_text()
    assert outage.dag_id in row and "copy_orders" in row
    assert f"served by {outage.west_source} after {outage.east_source}" in row
    breaker = frame.locator(f"tr.breaker[data-endpoint='{outage.east_source}']")
    assert breaker.get_attribute("data-state") == "open"
    assert "open" in breaker.inner_text() and " s" in breaker.inner_text()
    assert frame.locator("#failover-chart rect.bar").count() >= 1
    assert frame.locator("tr.hint").first.inner_text().startswith("curated")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "resilience.png"), full_page=True)
    html = page.content() + frame.locator("html").inner_html()
    assert outage.password not in html

    # The task-instance tab (href placeholders filled in by the UI) shows the lineage.
    tab = f"/dags/{outage.dag_id}/runs/{outage.run_id}/tasks/copy_orders/plugin/spof-task-instance"
    page.goto(f"{outage.base_url}{tab}")
    ti_frame = page.frame_locator("iframe[title='Resilience']")
    served = ti_frame.locator("#lineage g[data-role='served']")
    served.wait_for(timeout=60_000)
    assert served.get_attribute("data-endpoint") == outage.west_source
    failed = ti_frame.locator("#lineage g[data-role='source']")
    assert failed.get_attribute("data-status") == "failed"
    lagging = ti_frame.locator("#lineage g[data-role='replica'][data-status='lagging']")
    assert lagging.get_attribute("data-endpoint") == outage.east_replica
    page.screenshot(path=str(ARTIFACTS / "task-instance-tab.png"), full_page=True)
    assert outage.password not in page.content() + ti_frame.locator("html").inner_html()
