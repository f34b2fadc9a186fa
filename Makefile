# mcpgw: `make up` runs the whole cluster with a demo; `make test` runs every test.
# Extra arguments go through ARGS, e.g. `make up ARGS=-v`, `make test ARGS="-k auth -x"`.
# `make reset` wipes the local state in .run/ (after asking; ARGS=-y does not ask).
PY := .venv/bin/python
ARGS ?=

.PHONY: up test bench lint bootstrap reset

bootstrap:
	@bash scripts/bootstrap.sh

up: bootstrap
	$(PY) -m mcpgw.launcher $(ARGS)

reset:
	@bash scripts/reset.sh $(ARGS)

test: bootstrap
	$(PY) -m pytest $(ARGS)

bench:
	@bash scripts/bootstrap.sh bench
	$(PY) bench/run.py $(ARGS)

lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m mypy src/mcpgw services/auth/mcpgw_auth services/edge/mcpgw_edge \
		services/registry/mcpgw_registry services/toolexec/mcpgw_toolexec \
		services/hosting/mcpgw_hosting tests demo
	$(PY) -m mypy bench  # apart: bench/backend.py and demo/backend.py share a module name
