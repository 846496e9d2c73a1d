# Every target sets up .venv on its own, so a fresh clone needs nothing but `make <target>`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test test-distributed lint bench demo

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

# Only the multi-worker Celery run (it is also part of `make test`; needs redis-server).
test-distributed: $(STAMP)
	$(BIN)/pytest -m distributed tests/distributed

demo: $(STAMP)
	$(BIN)/airflow-spof demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check airflow_spof operators sensors
	$(BIN)/mypy
	$(BIN)/mypy operators sensors

# Each prints its comparison and the command to reproduce it; figures go to benchmarks/RESULTS.md.
# bench_failover_dag.py (~6 min, a 300 s retry delay) runs on its own.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_lint.py
	$(BIN)/python benchmarks/bench_s3_failover.py
	$(BIN)/python benchmarks/bench_s3.py
	$(BIN)/python benchmarks/bench_sql.py
