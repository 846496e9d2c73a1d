"""The operator-facing subcommands of ``airflow-spof``: status, repair, drill and demo.

Each module exposes ``OPTIONS`` (shared by argparse and the ``airflow spof``
group), ``add_parser(subparsers)`` and ``run(args) -> exit code``. None of
them imports Airflow at module level: ``drill --example-env`` and ``demo``
must configure a private Airflow home before Airflow reads its settings.
"""
