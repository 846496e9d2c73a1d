"""Sensors for upstream availability and freshness; import them as ``airflow_spof.sensors``."""

if __name__ != "airflow_spof.sensors":
    raise ImportError("import this package as airflow_spof.sensors, not as a top-level module")

from airflow_spof.hooks.probes import HttpTarget, TcpTarget, http, tcp
from airflow_spof.sensors.availability import UpstreamAvailabilitySensor
from airflow_spof.sensors.freshness import FreshnessSensor

__all__ = [
    "FreshnessSensor",
    "HttpTarget",
    "TcpTarget",
    "UpstreamAvailabilitySensor",
    "http",
    "tcp",
]
