# Set-up and the two main commands. Everything installs into this folder (.venv, node_modules,
# .solcx) from the pinned files: pyproject.toml + constraints.txt, package.json + package-lock.json.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.30
PY_STAMP := $(VENV)/.setup-stamp
NPM_STAMP := node_modules/.setup-stamp
SOLC_EXE := .solcx/solc-v$(SOLC_VERSION)
ANVIL := ethereum:local:foundry

.PHONY: setup system-packages compile test test-local test-anvil lint prove screenshot fuzz system-fuzz demo bench chain clean web dashboard

# Debian packages the tests need, as PACKAGE:FILE-IT-INSTALLS (tools/system_packages.sh).
SYSTEM_PACKAGES := postgresql:/usr/lib/postgresql/*/bin/initdb chromium:/usr/bin/chromium

# halmos (make prove) has a venv of its own: it pins rich < 14.1, eth-ape needs rich >= 14.3.3.
HALMOS_VENV := .venv-halmos
HALMOS_STAMP := $(HALMOS_VENV)/.setup-stamp

setup: system-packages $(PY_STAMP) $(NPM_STAMP) $(SOLC_EXE) $(HALMOS_STAMP)

system-packages:
	tools/system_packages.sh $(SYSTEM_PACKAGES)

$(PY_STAMP): pyproject.toml constraints.txt tools/write_env_pth.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python tools/write_env_pth.py
	touch $@

$(HALMOS_STAMP): proofs/requirements.txt
	test -x $(HALMOS_VENV)/bin/python || $(PYTHON) -m venv $(HALMOS_VENV)
	$(HALMOS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r proofs/requirements.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SOLC_EXE): tools/solc.js $(NPM_STAMP)
	mkdir -p .solcx
	printf '#!/bin/sh\nexec node "%s/tools/solc.js" "$$@"\n' "$(CURDIR)" > $@
	chmod +x $@
	$@ --version | grep -q "Version: $(SOLC_VERSION)"

compile: setup
	$(BIN)/ape compile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/slither_check.py
	npm run --silent typecheck

# The whole suite on ape's in-process chain and on anvil, side by side (tools/run_suites.sh).
# pytest exits non-zero when a test fails and also when no test was collected, so neither run
# can pass empty. test-local and test-anvil run one of them.
# The proofs and the linters run beside the two suites (which leave part of the 2 cores idle
# while they wait on nodes, servers and browsers): their logs are printed after, and any of them
# failing fails `make test`. The suites run at a lower priority (nice 10): halmos' solver,
# starved by the four sessions, once took 330 s for a proof of 9 s (the whole run 13 min); first
# served, the proofs end in about 2.5 min and the suites take the cores back.
test: setup compile
	@prove_log=$$(mktemp); lint_log=$$(mktemp); \
	$(MAKE) --no-print-directory prove > "$$prove_log" 2>&1 & prove_pid=$$!; \
	$(MAKE) --no-print-directory lint > "$$lint_log" 2>&1 & lint_pid=$$!; \
	nice -n 10 tools/run_suites.sh; suites_rc=$$?; wait $$lint_pid; lint_rc=$$?; wait $$prove_pid; prove_rc=$$?; \
	echo "================ make lint (exit $$lint_rc) ================"; cat "$$lint_log"; \
	echo "================ make prove (exit $$prove_rc) ================"; cat "$$prove_log"; \
	rm -f "$$prove_log" "$$lint_log"; \
	echo "suites: exit $$suites_rc; lint: exit $$lint_rc; prove: exit $$prove_rc"; \
	[ $$suites_rc -eq 0 ] && [ $$lint_rc -eq 0 ] && [ $$prove_rc -eq 0 ]

# The symbolic proofs of proofs/ (docs/security.md says what they prove): halmos builds them
# with forge (foundry.toml: offline, the project's solc) and runs every check_* function.
# --loop bounds the unrolling of loops: above every loop's length in the proofs, so no path is
# cut (halmos would list a cut path under "bounds").
HALMOS_LOOP := 6
prove: setup
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" $(HALMOS_VENV)/bin/halmos --root . --function check_ \
		--loop $(HALMOS_LOOP)

test-local: setup
	$(BIN)/ape test tests -p no:cacheprovider --durations=8

test-anvil: setup
	$(BIN)/ape test tests -p no:cacheprovider --durations=8 --network $(ANVIL)

# The stateful tests alone (the system's, and compute rights' against their model), with the
# profile chosen by VVV_FUZZ (ci: bounded; long: 400 x 80 and 50 x 40).
# The README's picture of the page (docs/img/dashboard.png), taken again by its browser test.
screenshot: setup compile
	VVV_SCREENSHOT=$(CURDIR)/docs/img/dashboard.png $(BIN)/ape test tests/dashboard/test_page.py -k screenshot \
		-p no:cacheprovider --network $(ANVIL)

fuzz: setup
	$(BIN)/ape test tests/contracts/test_stateful.py tests/contracts/test_rights_stateful.py -p no:cacheprovider

# The whole-system stateful test (chain, gateway processes on SQLite and Postgres, oracle) alone,
# on anvil, with the profile chosen by VVV_SYSTEM_FUZZ (short: 2 days per store; long: 20 days);
# VVV_SYSTEM_FUZZ_SEED replays a run.
system-fuzz: setup compile
	$(BIN)/ape test tests/gateway/test_whole_system.py -p no:cacheprovider -s --network $(ANVIL)

demo: setup compile
	$(BIN)/ape run demo

# The staking page (web/), built by Vite into web/dist with the ABIs of the compiled contracts.
web: setup compile
	npm run --silent build

# The demo's two weeks on a local anvil that stays up, then the page for it (tools/dashboard.sh).
dashboard: setup compile
	tools/dashboard.sh

bench: setup compile
	$(BIN)/python bench/gas.py --network $(ANVIL)

# A local chain that persists: anvil with the chain id ape's local network signs for (1337), its
# state in $(CHAIN_DIR)/anvil-state.json (saved every 10 s and on Ctrl-C or kill, loaded at the
# next start), on the URI that ape-config.yaml gives ethereum:local:node. Log: $(CHAIN_DIR)/anvil.log.
CHAIN_HOST ?= 127.0.0.1
CHAIN_PORT ?= 8545
CHAIN_DIR ?= .chain
chain: $(NPM_STAMP)
	@mkdir -p $(CHAIN_DIR)
	@echo "anvil on http://$(CHAIN_HOST):$(CHAIN_PORT), chain id 1337, state in $(CHAIN_DIR)/anvil-state.json, log in $(CHAIN_DIR)/anvil.log; Ctrl-C (or kill) stops it and saves the state"
	@node_modules/.bin/anvil --chain-id 1337 --host $(CHAIN_HOST) --port $(CHAIN_PORT) \
		--state $(CHAIN_DIR)/anvil-state.json --state-interval 10 >> $(CHAIN_DIR)/anvil.log 2>&1; \
		if tail -n 1 $(CHAIN_DIR)/anvil.log | grep -q '^Error'; then \
			echo "anvil stopped: $$(tail -n 1 $(CHAIN_DIR)/anvil.log)" >&2; exit 1; fi

clean:
	rm -rf .build contracts/.cache .solcx out cache
