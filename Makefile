# The two commands a newcomer needs: `make demo` and `make test`. See README.md.
PYTHON ?= python3

.PHONY: test demo stop bench lint format install dev

test:            ## the whole test suite: unit, Odoo (incl. browser tours), multi-process integration
	$(PYTHON) setup/harness.py test

demo:            ## a demo database with the whole suite on http://localhost:8069 (admin/admin)
	$(PYTHON) setup/harness.py demo

stop:            ## stop what `make demo` started and remove throwaway PostgreSQL clusters
	$(PYTHON) setup/harness.py stop

bench:           ## benchmarks (not part of make test): figures and ratios printed
	$(PYTHON) setup/harness.py bench

install:         ## Python packages for the addons and the tests, keeping Odoo 18's pins
	$(PYTHON) -m pip install -r requirements.txt -r requirements-test.txt -c setup/constraints-odoo18.txt

lint:
	ruff check .
	ruff format --check .

format:
	ruff format .
	ruff check --fix .

dev:             ## iterate: persistent dev DB; make dev ARGS="--update ps_billing_rules addons/ps_billing_rules/tests"
	$(PYTHON) setup/harness.py dev $(ARGS)
