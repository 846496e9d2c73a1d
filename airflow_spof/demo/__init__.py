"""``airflow-spof demo``: the whole product on one machine in under a minute.

``scenario`` runs the four steps against real servers, ``report`` turns
their results into the terminal table and JSON, ``html`` into a page with
the lineage picture of every run. ``samples/`` holds the fragile DAG the
linter step takes apart (kept out of ``dags/``, which must lint clean).
"""
