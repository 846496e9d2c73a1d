"""Cross-region SQL sync: aggregate on whichever warehouse region answers, write to both."""

from datetime import timedelta

from airflow.sdk import DAG
from replica_sets import REPORTING, WAREHOUSE

from airflow_spof.operators import FailoverSqlOperator

with DAG(
    dag_id="cross_region_sql_sync",
    schedule="@daily",
    catchup=False,
    default_args={"retries": 2, "execution_timeout": timedelta(minutes=20)},
    tags=["airflow-spof", "example"],
):
    # Read replicas are tried in order (us-east-1, eu-west-1, local); the
    # aggregate goes to the reporting table in both regions at quorum.
    FailoverSqlOperator(
        task_id="daily_revenue",
        sources=WAREHOUSE,
        sql="""
            SELECT order_date, COUNT(*) AS orders, SUM(amount) AS revenue
            FROM orders
            GROUP BY order_date
        """,
        destination=REPORTING,
        max_xcom_rows=0,
        attempt_timeout=30,
        deadline=120,
    )
