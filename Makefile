# One task runner for people and CI alike: `make test` is exactly what .ci/run calls.
# The only thing taken from the machine is python3 (3.11 or 3.12); uv comes from PyPI into
# .tools/, and every dependency from the committed uv.lock into .venv/.

PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := .tools/bin/uv
RUN := $(UV) run --frozen

.PHONY: setup browser run test lint bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml flowctl/pyproject.toml plugins/weather/pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	.venv/bin/python -m compileall -q src flowctl/src > /dev/null
	touch $@

setup: .venv/.synced

# The dashboard's browser tests drive Debian's Chromium through Playwright (never a downloaded
# browser); installed only when missing.
browser:
	@command -v chromium > /dev/null || apt-get install -y --no-install-recommends chromium

run: setup  ## the main job: server on embedded defaults, example applied and run
	$(RUN) python scripts/demo.py

test: setup browser  ## the whole suite: lint, types, layer contract, tests
	$(RUN) ruff check src tests benchmarks flowctl scripts plugins
	$(RUN) ruff format --check src tests benchmarks flowctl scripts plugins
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) pytest

lint: setup
	$(RUN) ruff check --fix src tests benchmarks flowctl scripts plugins
	$(RUN) ruff format src tests benchmarks flowctl scripts plugins

bench: setup  ## every benchmark (triggers waits for two cron minutes); figures go to BENCHMARKS.md
	$(RUN) python benchmarks/engine_overhead.py
	$(RUN) python benchmarks/server.py
	$(RUN) python benchmarks/executors.py
	$(RUN) python benchmarks/triggers.py
	$(RUN) python benchmarks/weather.py
	$(RUN) python benchmarks/dashboard.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
