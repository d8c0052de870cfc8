# The two commands a newcomer needs (see README.md):
#   make demo   checks Odoo 18 and PostgreSQL, installs the Python requirements and OCA addons
#               that are missing, then serves a demo database on http://localhost:8069
#   make test   the whole test suite
PYTHON ?= python3

# make demo options, from the command line only (HOST is often set in the environment, e.g. to
# a database host in Odoo's Docker image): make demo HOST=0.0.0.0 PORT=8070 DB_MANAGER=1 VERBOSE=1
DEMO_ARGS :=
ifeq ($(origin HOST),command line)
DEMO_ARGS += --host $(HOST)
endif
ifeq ($(origin PORT),command line)
DEMO_ARGS += --port $(PORT)
endif
ifneq ($(DB_MANAGER),)
DEMO_ARGS += --db-manager
endif
ifneq ($(VERBOSE),)
DEMO_ARGS += --verbose
endif
# make test JOBS=1: one Odoo test process (default: 2, each on its own copy of the test database);
# INTEGRATION=alongside: the integration tests at the same time as the Odoo tests (the default,
# auto, does so with 4 cores or more; on 2 cores their overlap and timing assertions fail)
TEST_ARGS := $(if $(JOBS),--jobs $(JOBS)) $(if $(INTEGRATION),--integration $(INTEGRATION))

.PHONY: demo test stop bench lint format install dev screenshots

demo:            ## set up what is missing, then the demo on http://localhost:8069 (loopback only)
	$(PYTHON) setup/harness.py demo $(DEMO_ARGS)

test:            ## the whole test suite: unit, Odoo (incl. browser tours), multi-process integration
	$(PYTHON) setup/harness.py test $(TEST_ARGS)

stop:            ## stop what `make demo` started and remove throwaway PostgreSQL clusters
	$(PYTHON) setup/harness.py stop

bench:           ## benchmarks (not part of make test): figures and ratios printed
	$(PYTHON) setup/harness.py bench $(ARGS)

install:         ## Python requirements (Odoo 18's pins kept), then the OCA addon wheels (--no-deps)
	$(PYTHON) setup/harness.py install

lint:            ## ruff, the version pinned in requirements-test.txt
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format:
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

dev:             ## iterate: persistent dev DB; make dev ARGS="--update ps_billing_rules addons/ps_billing_rules/tests"
	$(PYTHON) setup/harness.py dev $(ARGS)

screenshots:     ## the README walkthroughs' screenshots into docs/screenshots (tours on a fresh dev DB)
	SUITE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PYTHON) setup/harness.py dev --database screenshots --reset tests/addons/suite_walkthroughs/tests addons/connector_crm/tests/test_tour.py
