"""airflow-spof inside the Airflow UI: the plugin, its FastAPI app and hook lineage.

Kept empty on purpose: operators on workers import ``hook_lineage`` from
here and must not pay for building the web app. The plugin class lives in
``airflow_plugin`` (the ``airflow.plugins`` entry point).
"""
