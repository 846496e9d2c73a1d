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

# Two Celery workers, Redis and PostgreSQL on loopback (~3.5 min; needs `apt-get install -y redis-server`).
CELERY_STAMP := $(VENV)/.installed-celery-stamp
$(CELERY_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,celery]'
	touch $(CELERY_STAMP)

test-distributed: $(CELERY_STAMP)
	$(BIN)/pytest -m distributed tests/distributed

demo: $(STAMP)
	$(BIN)/airflow-spof demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check airflow_spof operators sensors
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
