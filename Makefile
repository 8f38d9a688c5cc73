# Set-up and everyday commands.  `make run` starts the cloud; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DATA_DIR ?= ./data

.PHONY: run test lint typecheck bench clean sysdeps venv docs

$(BIN)/.installed: pyproject.toml
	@scripts/sysdeps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/pip install -q -e '.[dev,libvirt,postgres,plots]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import server, libvirt, psycopg"
	@touch $@

venv: $(BIN)/.installed  ## create the virtual environment and install everything

sysdeps:  ## install the Debian packages the cloud and its tests use
	@scripts/sysdeps.sh

run: venv  ## run the cloud (data in ./data; credentials in ./data/euca2ools.ini)
	$(BIN)/eucalyptus-cloud --data-dir $(DATA_DIR) $(ARGS)

test: venv  ## run the whole test suite (SQLite and a throw-away PostgreSQL)
	@scripts/test.sh $(ARGS)

lint: venv
	$(BIN)/ruff check server euca2ools simulator tui tests benchmarks

typecheck: venv
	$(BIN)/mypy --strict server
	$(BIN)/mypy server simulator euca2ools tui

bench: venv  ## print the benchmark figures (see benchmarks/README.md)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

docs: venv  ## regenerate man pages and bash completion from the CLI declarations
	$(BIN)/python -m euca2ools.generate

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
