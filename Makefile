# The product's front door: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup lint format check-migrations fuzz demo clean

$(PY):
	@python=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	$$python -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade "pip>=25.1"
	$(PY) -m pip install -q --group app --group dev
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	@scripts/write-dotenv
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Serving on http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/, tracking: /track/)"
	scripts/serve

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: setup
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# Look for new API failures: many more generated requests than `make test`, a new seed each run.
fuzz: setup
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(PY) -m pytest tests/intake/test_api_schemathesis.py -p no:cacheprovider

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
