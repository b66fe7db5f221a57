# registry_lab — deux commandes font toute l'installation (en root, sur Debian/Ubuntu) :
#   make lab    installe ce qui manque, démarre le labo, ouvre JupyterLab sur notebooks/
#   make test   installe ce qui manque, lance tous les tests (notebooks compris), arrête tout
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JUPYTER_PORT ?= 8888
TEST_HOME ?= /tmp/registry-lab-test
TEST_PORT ?= 5000

.PHONY: lab test setup system up down status doctor reset lint figures bench

## Installation ----------------------------------------------------------------------------
system:
	@bash scripts/install-system.sh

$(STAMP): pyproject.toml jupyter/overrides.json
	@echo "Installation de l'environnement Python ($(VENV))…"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $@

setup: system $(STAMP)

## Le labo ---------------------------------------------------------------------------------
lab: setup
	@$(PY) -m registry_lab up
	@echo "Ouverture de JupyterLab sur notebooks/ (Ctrl+C pour l'arrêter ; « make down » arrête le labo)."
	@$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 \
		--ServerApp.port=$(JUPYTER_PORT) --allow-root \
		$(if $(DISPLAY),,--no-browser)

up down status doctor: setup
	@$(PY) -m registry_lab $@

reset: setup
	@$(PY) -m registry_lab reset

figures: setup
	@$(PY) -m registry_lab figures --output imgs

## Les tests -------------------------------------------------------------------------------
lint: setup
	@$(VENV)/bin/ruff check registry_lab tests benchmarks
	@$(VENV)/bin/ruff format --check registry_lab tests benchmarks
	@$(VENV)/bin/mypy

test: setup
	@REGISTRY_LAB_HOME=$(TEST_HOME) REGISTRY_LAB_PORT=$(TEST_PORT) bash scripts/run-tests.sh

bench: setup
	@for bench in benchmarks/bench_*.py; do $(PY) $$bench || exit 1; done
