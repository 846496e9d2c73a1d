"""Sensors for upstream availability and freshness; import them as ``airflow_spof.sensors``."""

if __name__ != "airflow_spof.sensors":
    raise ImportError("import this package as airflow_spof.sensors, not as a top-level module")
