# Two commands on a fresh machine:
#   make demo   -- create .venv, install, run the main job (fit Treloar data, export, FE solve)
#   make test   -- create .venv-test, install with test extras and peers, run the whole suite
PYTHON ?= python3
# torch is installed first, on its own, so that a CPU build is used where one is available
# (on Linux, a bare `pip install torch` from PyPI pulls a multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
VENV ?= .venv
TEST_VENV ?= .venv-test

.PHONY: demo test lint bench report docs clean calculix dolfinx-env dolfinx-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -c "import torch" 2>/dev/null || $(VENV)/bin/pip install -q "$(TORCH_SPEC)" || $(VENV)/bin/pip install -q "torch>=2.4"
	$(VENV)/bin/pip install -q -e ".[plot,fem]"
	touch $@

$(TEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -c "import torch" 2>/dev/null || $(TEST_VENV)/bin/pip install -q "$(TORCH_SPEC)" || $(TEST_VENV)/bin/pip install -q "torch>=2.4"
	$(TEST_VENV)/bin/pip install -q -e ".[test,plot,fem,fem-peers,solvers,dev,docs]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/python -m constitutive.cli.demo --output out/demo

# The hosts are built (or found in the cache) first; where one cannot be built, its tests skip
# with the reason (the build's last line says why).
test: $(TEST_VENV)/.installed
	-@bash tools/calculix/build.sh >/dev/null || echo "make test: CalculiX unavailable, its tests will skip"
	-@bash tools/dolfinx/setup.sh >/dev/null || echo "make test: DOLFINx unavailable, its tests will skip"
	$(TEST_VENV)/bin/python -m pytest -q tests

calculix:
	bash tools/calculix/build.sh

dolfinx-env:
	bash tools/dolfinx/setup.sh

dolfinx-test: $(TEST_VENV)/.installed dolfinx-env
	$(TEST_VENV)/bin/python -m pytest -q tests/interfaces/test_dolfinx.py

lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/ruff check constitutive materials tests benchmarks examples data tools
	$(TEST_VENV)/bin/lint-imports

# the peers of the benchmarks (matadi, tensortrax, JAX) come with the bench extra
bench: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/pip install -q -e ".[bench]"
	$(TEST_VENV)/bin/python benchmarks/material_point.py
	$(TEST_VENV)/bin/python benchmarks/fitting.py
	$(TEST_VENV)/bin/python benchmarks/fem.py
	$(TEST_VENV)/bin/python benchmarks/export.py

docs: $(TEST_VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(TEST_VENV)/bin/mkdocs build --strict

report: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/constitutive report --output-dir docs/figures/report

clean:
	rm -rf $(VENV) $(TEST_VENV) out
