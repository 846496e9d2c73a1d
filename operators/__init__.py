"""Operators for resilient pipelines; import them as ``airflow_spof.operators``."""

if __name__ != "airflow_spof.operators":
    raise ImportError("import this package as airflow_spof.operators, not as a top-level module")
