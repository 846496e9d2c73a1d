-- The airflow-spof state store (breakers, health, repair hints), beside the metadata database.
CREATE DATABASE spof_state OWNER airflow;
