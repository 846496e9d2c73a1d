"""airflow-spof inside the Airflow UI: the plugin and its FastAPI app.

Kept empty on purpose, so importing a submodule does not build the web app.
The plugin class lives in ``airflow_plugin`` (the ``airflow.plugins`` entry point).
"""
