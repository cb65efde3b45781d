# The README's two commands: `make lab` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo
DEMO_DB := sqlite:///$(DEMO_DIR)/credkit.db
# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test lint bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,notebook,postgres]"
	touch $@

$(VENV)/.notebook-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[notebook]"
	touch $@

$(VENV)/.bench-installed: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@

$(DEMO_DIR)/credkit.db: | $(VENV)/.notebook-installed
	$(BIN)/credkit demo --users 1000 --out $(DEMO_DIR) --db $(DEMO_DB)

demo: $(DEMO_DIR)/credkit.db

lab: $(VENV)/.notebook-installed demo
	CREDKIT_DATABASE_URL=$(DEMO_DB) $(BIN)/jupyter lab $(ROOT_FLAG) \
		--config=jupyter_server_config.py --ServerApp.root_dir=. $(LAB_ARGS)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
