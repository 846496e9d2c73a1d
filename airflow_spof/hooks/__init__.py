"""Airflow hooks: one backend per endpoint kind, and the replicated/failover hook."""
