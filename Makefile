# lottery_init: `make help` lists the targets. Every target creates .venv and installs on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=
SWEEP  ?=

.DEFAULT_GOAL := help
.PHONY: help install train test test-gpu sweep report notebook lint format tensorboard benchmark clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# Compat mode puts the repository on sys.path, so Hydra's plugin scan finds hydra_plugins/.
	$(PY) -m pip install -q -c constraints.txt --config-settings editable_mode=compat -e '.[dev]'
	touch $@

install: $(STAMP) ## create .venv and install the package with the tested versions

train: $(STAMP) ## the study's single run (overrides: make train ARGS="init=kaiming_uniform seed=3")
	$(PY) -m lottery_init.train $(ARGS)

# Two pytest workers: most of the suite's time is single-threaded (each command-line test starts
# a Python that imports torch and Lightning). A test module stays on one worker, so that its
# shared fixtures (a trained sweep) are built once.
test: $(STAMP) ## lint, format check and the test suite (no GPU needed), in two processes
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2 --dist loadscope $(ARGS)

test-gpu: $(STAMP) ## the CUDA tests (with a GPU), ending with each test's largest differences vs tolerance
	$(PY) -m pytest -m gpu -rs

sweep: $(STAMP) ## the study's grid (8 inits x 11 seeds) packed into populations, every GPU used
	$(PY) -m lottery_init.train --multirun experiment=seed_paper $(ARGS)

report: $(STAMP) ## figures, tables and conclusions of a sweep: make report SWEEP=outputs/sweeps/<time>
	@test -n "$(SWEEP)" || { echo 'name the sweep folder: make report SWEEP=outputs/sweeps/<time>'; exit 2; }
	$(PY) -m lottery_init.report $(SWEEP)

$(VENV)/.notebook: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt --config-settings editable_mode=compat -e '.[dev,notebook]'
	touch $@

# No browser (servers, containers): JupyterLab prints the address to open. As root (most
# containers) it must be told that this is meant.
notebook: $(VENV)/.notebook ## serve notebooks/seed_paper.ipynb with JupyterLab; open the address it prints
	$(VENV)/bin/jupyter lab notebooks/seed_paper.ipynb --no-browser --ip=127.0.0.1 \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

tensorboard: $(STAMP) ## TensorBoard over every run and sweep in outputs/
	$(VENV)/bin/tensorboard --logdir outputs/

benchmark: $(STAMP) ## seconds per epoch against a plain PyTorch loop
	$(PY) benchmarks/epoch_time.py

format: $(STAMP) ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean: ## remove .venv and caches (keeps outputs/ and data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
