"""``python -m airflow_spof.lint``."""

from airflow_spof.lint.cli import main

raise SystemExit(main())
