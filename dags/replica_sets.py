"""Replica sets shared by the example DAGs: declared once, validated when the DAGs parse.

Every endpoint is an Airflow connection id plus a location; credentials live
in the connections. ``SPOF_NFS_ROOT`` says where the on-premises mount is.
"""

import os

from airflow_spof import Replicas, fs, s3, sql

NFS_ROOT = os.environ.get("SPOF_NFS_ROOT", "/mnt/nfs")

# Raw orders land in two regions; reads try us-east-1 first, then eu-west-1.
LANDING = Replicas(
    s3("aws_use1", bucket="orders-landing-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-landing-euw1", region="eu-west-1"),
    write_consistency="one",
    name="landing",
)

# Curated orders: two regions plus on-prem. Quorum (2 of 3) keeps writing
# through the loss of any one of them; the one that missed is repaired later.
CURATED = Replicas(
    s3("aws_use1", bucket="orders-curated-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-curated-euw1", region="eu-west-1"),
    fs(f"{NFS_ROOT}/orders", region="onprem"),
    write_consistency="quorum",
    min_regions=2,
    name="curated_orders",
)

# The warehouse: an orders table replicated in two regions plus an embedded copy.
WAREHOUSE = Replicas(
    sql("warehouse_use1", table="orders", key="order_id", region="us-east-1"),
    sql("warehouse_euw1", table="orders", key="order_id", region="eu-west-1"),
    sql("warehouse_local", table="orders", key="order_id", region="onprem"),
    write_consistency="quorum",
    min_regions=2,
    name="warehouse_orders",
)

# Daily revenue for reporting, in both regions and on-prem. With three
# replicas a quorum is 2: losing one region still takes writes.
REPORTING = Replicas(
    sql("warehouse_use1", table="daily_revenue", key="order_date", region="us-east-1"),
    sql("warehouse_euw1", table="daily_revenue", key="order_date", region="eu-west-1"),
    sql("warehouse_local", table="daily_revenue", key="order_date", region="onprem"),
    write_consistency="quorum",
    name="daily_revenue",
)

# Orders must have an id, a customer and a non-negative amount before they go anywhere.
ORDER_EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "customer"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "amount", "min_value": 0}},
]
