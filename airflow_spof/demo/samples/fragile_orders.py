"""A deliberately fragile DAG for the demo's lint step: every line here is a single point.

Not an example to copy. It pins one database connection, hands a file from
one worker to the next through /tmp, hard-codes a host, routes to a queue
one worker serves, and has no retries or timeouts.
"""

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

with DAG(dag_id="fragile_orders", schedule="@daily", catchup=False):

    @task(queue="etl-box-1")
    def extract() -> str:
        import urllib.request

        with urllib.request.urlopen("http://10.0.4.17:8080/orders.csv") as response:
            data = response.read()
        with open("/tmp/orders.csv", "wb") as handle:
            handle.write(data)
        return "/tmp/orders.csv"

    @task
    def transform(path):
        with open(path, "rb") as handle:
            return len(handle.read().splitlines())

    load = SQLExecuteQueryOperator(
        task_id="load",
        conn_id="warehouse_primary",
        sql="INSERT INTO orders_daily SELECT * FROM staging_orders",
    )
    notify = BashOperator(task_id="notify", bash_command="curl -fsS http://10.0.4.18/hook")

    transform(extract()) >> load >> notify
