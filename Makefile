# Two commands on a fresh machine:
#   make demo   -- create .venv, install, run the main job (fit Treloar data, export, FE solve)
#   make test   -- create .venv-test, install with test extras and peers, run the whole suite
PYTHON ?= python3
# torch is installed first, on its own, so that a CPU build is used where one is available
# (on Linux, a bare `pip install torch` from PyPI pulls a multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
VENV ?= .venv
TEST_VENV ?= .venv-test

.PHONY: demo test lint bench report clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -c "import torch" 2>/dev/null || $(VENV)/bin/pip install -q "$(TORCH_SPEC)" || $(VENV)/bin/pip install -q "torch>=2.4"
	$(VENV)/bin/pip install -q -e ".[plot,fem]"
	touch $@

$(TEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -c "import torch" 2>/dev/null || $(TEST_VENV)/bin/pip install -q "$(TORCH_SPEC)" || $(TEST_VENV)/bin/pip install -q "torch>=2.4"
	$(TEST_VENV)/bin/pip install -q -e ".[test,plot,fem,fem-peers,solvers,dev]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/python -m constitutive.cli.demo --output out/demo

test: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m pytest -q tests

lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/ruff check constitutive materials tests benchmarks examples

bench: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/material_point.py
	$(TEST_VENV)/bin/python benchmarks/fitting.py
	$(TEST_VENV)/bin/python benchmarks/fem.py

report: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/calibration_report.py

clean:
	rm -rf $(VENV) $(TEST_VENV) out
