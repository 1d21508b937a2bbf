# Everything runs from .venv, built from the pinned requirements with the machine's python3.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins boto3 below what .venv needs, so it lives in a venv of its own.
SECURITY_VENV := .venv-security
SECURITY_STAMP := $(SECURITY_VENV)/.installed

# The local cloud's port: set LOCALCLOUD_PORT to run several side by side.
export LOCALCLOUD_PORT ?= 4566
export LOCALCLOUD_TIME_SCALE ?= 0.1
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

PLAYBOOK := $(BIN)/ansible-playbook
# The tests are hermetic: credentials, a profile or a region exported for a real account must not
# reach them, nor ~/.aws (tests/conftest.py does the same inside pytest).
HERMETIC := env $(foreach var,$(filter AWS_%,$(.VARIABLES)),-u $(var)) \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
PYTEST_ARGS ?=
DRILL_MODE ?= unplanned
# Options of bench/run_all.py, e.g. --quick.
BENCH_ARGS ?=

.PHONY: help setup demo deploy drill restore cleanup preflight summary test lint sanity pytest molecule \
        localcloud-start localcloud-stop localcloud-status lock bench clean security-setup \
        lock-security

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create or update .venv from the pinned requirements (idempotent)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

security-setup: $(SECURITY_STAMP) ## Create or update .venv-security (checkov)

$(SECURITY_STAMP): requirements-security.txt
	@test -x $(SECURITY_VENV)/bin/python || $(PYTHON) -m venv $(SECURITY_VENV)
	$(SECURITY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-security.txt
	@touch $@

demo: setup ## Start the local cloud, deploy both regions, run a failover drill, print a summary
	$(BIN)/localcloud start
	$(PLAYBOOK) playbooks/deploy.yml
	$(PLAYBOOK) playbooks/failover_drill.yml
	@$(MAKE) --no-print-directory summary
	@echo "Drill report: reports/latest.json (and the .md/.svg next to it). Stop the local cloud: make localcloud-stop"

drill: setup ## Run a failover drill (DRILL_MODE=unplanned|planned)
	$(PLAYBOOK) playbooks/failover_drill.yml -e drill_mode=$(DRILL_MODE)

restore: setup ## Bring the primary back to its deployed state
	$(PLAYBOOK) playbooks/restore.yml

preflight: setup ## Check every prerequisite of a deployment (changes nothing)
	$(PLAYBOOK) playbooks/preflight.yml

cleanup: setup ## List what would be deleted; CONFIRM=<deployment_name> backs up, then deletes it
	$(PLAYBOOK) playbooks/cleanup.yml $(if $(CONFIRM),-e confirm_cleanup=$(CONFIRM))

deploy: setup ## Deploy both regions (default inventory: the local cloud)
	$(PLAYBOOK) playbooks/deploy.yml

summary: setup ## Print what is deployed and where traffic goes
	$(PLAYBOOK) playbooks/status.yml

localcloud-start: setup ## Start the local cloud on $LOCALCLOUD_PORT
	$(BIN)/localcloud start

localcloud-stop: setup ## Stop the local cloud on $LOCALCLOUD_PORT
	$(BIN)/localcloud stop

localcloud-status: setup ## Show the local cloud's status (JSON)
	$(BIN)/localcloud status

test: setup security-setup lint sanity pytest molecule ## Everything CI runs: lint, ansible-test sanity, pytest, molecule

lint: setup security-setup ## yamllint, ansible-lint (production, offline), cfn-lint, ruff, checkov
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint
	$(BIN)/cfn-lint
	$(BIN)/ruff check .
	$(SECURITY_VENV)/bin/checkov --directory files --framework cloudformation --skip-download --compact --quiet

# ansible-test sanity for the failover.aws collection, with .venv's Python (--local), from the
# collection's folder. It finds the collections ours depends on only next to it: they are linked
# there from .venv (the paths are git-ignored). Most tests run in virtual environments of
# ansible-test's own, into which it bootstraps pip with a script from Ansible's CI file server,
# which this machine cannot reach: tests/sanity/get_pip.py stands in for it, in the cache where
# ansible-test looks first. Their requirements are ansible-test's own pins, from the package
# index. Skipped: pslint and shellcheck (no PowerShell or shell content in the collection).
COLLECTION := collections/ansible_collections/failover/aws
# (24_2: the pip version ansible-test 2.19 installs into them.)
SANITY_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py

sanity: setup ## ansible-test sanity for the failover.aws collection
	@for dependency in amazon/aws community/aws; do \
	  mkdir -p collections/ansible_collections/$$(dirname $$dependency); \
	  ln -sfn "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/$$dependency" \
	    collections/ansible_collections/$$dependency; \
	done
	@mkdir -p $(dir $(SANITY_GET_PIP)) && cp -n tests/sanity/get_pip.py $(SANITY_GET_PIP)
	cd $(COLLECTION) && $(HERMETIC) $(CURDIR)/$(BIN)/ansible-test sanity --local --python 3.11 \
	  --skip-test pslint --skip-test shellcheck

pytest: setup security-setup ## The Python tests (the local cloud, the Lambda, the modules, the playbooks)
	$(HERMETIC) $(BIN)/pytest $(PYTEST_ARGS)

molecule: setup ## One molecule scenario per role, each on its own local cloud
	@for role in roles/*/; do \
	  if [ -d "$$role/molecule/default" ]; then \
	    echo "== molecule: $$role"; \
	    (cd "$$role" && $(HERMETIC) $(CURDIR)/$(BIN)/molecule test) || exit 1; \
	  fi; \
	done

lock: ## Re-lock requirements.txt from requirements.in in a clean venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Full lock of requirements.in (pip freeze in a clean venv). Regenerate with \`make lock\`."; \
	  .lock-venv/bin/pip freeze; } > requirements.txt
	rm -rf .lock-venv

bench: setup ## Benchmarks -> bench/results.json and docs/benchmarks.md (BENCH_ARGS=--quick: short run)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lock-security: ## Re-lock requirements-security.txt from requirements-security.in in a clean venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements-security.in
	{ echo "# Full lock of requirements-security.in (pip freeze in a clean venv). Regenerate with \`make lock-security\`."; \
	  .lock-venv/bin/pip freeze; } > requirements-security.txt
	rm -rf .lock-venv

clean: ## Stop the local cloud and remove build output (keeps .venv)
	-$(BIN)/localcloud stop
	rm -rf build .localcloud
