"""The benchmark's shaped region links: reachable through their own namespace, always removed."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.shaped_link import ShapedLink


@pytest.fixture(autouse=True)
def _root_with_iproute2() -> None:
    """A missing prerequisite is an error that says how to get it, never a skip."""
    if os.geteuid() != 0 or not shutil.which("tc") or not shutil.which("ip"):
        pytest.fail(
            "shaped links need root and iproute2's `ip` and `tc`: run as root after "
            "`apt-get install iproute2` (.ci/run installs it)"
        )


def leftovers() -> tuple[str, str]:
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    mine = f"spofwan{os.getpid()}-"
    return (
        "\n".join(line for line in namespaces.splitlines() if line.startswith(mine)),
        "\n".join(line for line in links.splitlines() if f" sw{os.getpid() % 100000}o" in line),
    )


def test_a_region_behind_its_link_answers_and_everything_goes_away() -> None:
    with (
        ShapedLink(201, 500) as link,
        MotoRegion(host=link.address, command_prefix=link.command_prefix) as region,
    ):
        region.create_bucket("shaped")
        assert region.client().list_buckets()["Buckets"][0]["Name"] == "shaped"
        shown = subprocess.run(
            [*link.command_prefix, "tc", "qdisc", "show", "dev", link.inner],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "tbf" in shown and "500Mbit" in shown
    assert leftovers() == ("", "")


def test_links_are_removed_when_the_benchmark_fails() -> None:
    with pytest.raises(RuntimeError, match="benchmark broke"), ShapedLink(202, 50):
        assert leftovers()[0]
        raise RuntimeError("benchmark broke")
    assert leftovers() == ("", "")


def test_a_link_that_cannot_be_built_leaves_nothing_of_its_own_behind() -> None:
    """Its interface name is taken: the namespace made so far goes, the other interface stays."""
    link = ShapedLink(203, 50)
    peer = f"spfx{os.getpid() % 100000}"
    subprocess.run(
        ["ip", "link", "add", link.inner, "type", "veth", "peer", "name", peer], check=True
    )
    try:
        with pytest.raises(subprocess.CalledProcessError), link:
            pass
        assert leftovers()[0] == ""
        assert (
            subprocess.run(["ip", "link", "show", link.inner], capture_output=True).returncode == 0
        )
    finally:
        subprocess.run(["ip", "link", "delete", link.inner], check=True)
    with pytest.raises(ValueError, match="positive"):
        ShapedLink(204, -1)
