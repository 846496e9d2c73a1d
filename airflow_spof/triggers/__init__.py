"""Async triggers behind airflow-spof's deferrable sensors (run in Airflow's triggerer)."""
