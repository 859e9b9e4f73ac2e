# litmus.lem — everything a contributor runs, from a fresh clone with only Python 3.11.
#
#   make test    every check CI runs (unit, integration, sanity, lint, molecule, build)
#   make demo    a rollout against the LEM simulator, end to end
#   make docs    the documentation site in docs/build/html
#   make bench   the performance benchmarks (not part of make test)

PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# Modules run on the controller: tests use the venv's Python, never interpreter discovery.
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
BOOTSTRAP := ../shared/tools/ansible-test-offline-bootstrap
STAMP := $(VENV)/.installed

.PHONY: test venv unit integration sanity lint docs-lint changelog-lint molecule build docs demo bench clean

test: venv unit changelog-lint docs-lint lint sanity integration molecule build
	@echo "make test: all checks passed"

$(STAMP): requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r tests/requirements.txt
	touch $@

venv: $(STAMP)

unit: venv
	$(BIN)/python -m pytest tests/unit -q

integration: venv
	$(BIN)/python -m pytest tests/integration -q

# ansible-test needs the collection under ansible_collections/litmus/lem, as a real copy outside
# this git checkout (it would otherwise honour .gitignore and skip the copy).
sanity: venv
	@if [ -x $(BOOTSTRAP) ]; then $(BOOTSTRAP) $(BIN)/python; fi
	@set -e; dest=$$(mktemp -d); trap 'rm -rf "$$dest"' EXIT; \
	  copy=$$($(BIN)/python tests/utils/stage_collection.py "$$dest"); \
	  cd "$$copy" && $(BIN)/ansible-test sanity --local --python 3.11 --color no

lint: venv
	$(BIN)/ansible-lint --profile production

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# Plugin and role documentation as the docs site renders it: markup, references, RST.
docs-lint: venv
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all --disallow-unknown-collection-refs .

# The documentation site in docs/build/html (antsibull-docs sphinx-init + Sphinx, no network).
docs: venv
	docs/build.sh

# Scenarios under extensions/molecule, each with its own simulator on localhost. The collection is this
# checkout, through a link in a temporary collections path (molecule's own prerun would install a copy
# into ~/.ansible/collections, where it would shadow later work).
molecule: venv
	@set -e; holder=$$(mktemp -d); trap 'rm -rf "$$holder"' EXIT; \
	  mkdir -p "$$holder/ansible_collections/litmus"; ln -s "$(CURDIR)" "$$holder/ansible_collections/litmus/lem"; \
	  ANSIBLE_COLLECTIONS_PATH="$$holder" $(BIN)/molecule test --all

build: venv
	@set -e; dest=$$(mktemp -d); trap 'rm -rf "$$dest"' EXIT; \
	  $(BIN)/ansible-galaxy collection build --output-path "$$dest" . ; \
	  $(BIN)/ansible-galaxy collection install --force --collections-path "$$dest/installed" "$$dest"/litmus-lem-*.tar.gz ; \
	  test -f "$$dest/installed/ansible_collections/litmus/lem/plugins/module_utils/_client.py"

demo: venv
	$(BIN)/python tests/utils/demo.py

# Benchmarks against the simulator; rewrites docs/performance.md (its figures, table and plot).
bench: venv
	$(BIN)/python -m pip install --quiet -r tests/benchmarks/requirements.txt
	$(BIN)/python -m tests.benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build docs/build
