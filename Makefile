# The README's two commands: `make lab` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo
DEMO_DB := sqlite:///$(DEMO_DIR)/credkit.db

.PHONY: lab app test lint bench soak demo notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,notebook,postgres,verkada]"
	touch $@

# The verkada extra too: the sync-with-verkada runbook pushes through Command's API.
$(VENV)/.notebook-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[notebook,verkada]"
	touch $@

$(VENV)/.bench-installed: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@

$(DEMO_DIR)/credkit.db: | $(VENV)/.notebook-installed
	$(BIN)/credkit demo --users 1000 --out $(DEMO_DIR) --db $(DEMO_DB)

demo: $(DEMO_DIR)/credkit.db

# A demo directory made by an older credkit is upgraded first (nothing to do when current).
# JupyterLab on working copies of the runbooks (my-notebooks/, git-ignored), connected to the
# demo directory; relative paths start from here (CREDKIT_BASE_DIR). See tools/launch.py.
lab: $(VENV)/.notebook-installed demo
	$(BIN)/credkit db upgrade --db $(DEMO_DB)
	$(BIN)/python tools/launch.py lab $(DEMO_DB) -- $(LAB_ARGS)

# The import, export and sync-with-verkada runbooks as apps (Voila: code hidden), on the same
# demo directory.
app: $(VENV)/.notebook-installed demo
	$(BIN)/credkit db upgrade --db $(DEMO_DB)
	$(BIN)/python tools/launch.py app $(DEMO_DB) -- $(APP_ARGS)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long fault suite: kill -9 at random moments, racing imports and undos, a full disk
# (a tiny tmpfs, when run as root). Minutes, not seconds; CREDKIT_SOAK_ROUNDS sets its length.
soak: $(VENV)/.dev-installed
	CREDKIT_SOAK=1 $(BIN)/python -m pytest tests/soak $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Run the runbooks and store their outputs (after changing one, or credkit's output).
notebooks: $(VENV)/.dev-installed
	$(BIN)/python tools/refresh_notebooks.py

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
	@echo "my-notebooks/ (your working copies of the runbooks) is kept: remove it yourself."
