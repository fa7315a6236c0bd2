# paycrm_connector developer entry points. See README.md and setup/*.sh.
PYTHON ?= python3
ODOO ?= $(PYTHON) -m odoo
PAYCRM_DB ?= paycrm
export PYTHON ODOO PAYCRM_DB

STAMP := .odoo/requirements.stamp
BENCHES := $(sort $(wildcard bench/bench_*.py))

.PHONY: install pip-deps run test test-odoo lint bench clean bench-reminders bench-links bench-webhooks bench-insights bench-sync bench-autopay

## install: system packages, Odoo 18, Python deps, .odoo/odoo.conf
install:
	@setup/install_system.sh
	@setup/install_odoo.sh
	@$(MAKE) --no-print-directory pip-deps
	@setup/odoo_conf.sh

## pip-deps: pip install -r requirements.txt unless the stamp is newer
pip-deps:
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt requirements.txt ]; then \
		echo "Python requirements up to date ($(STAMP))"; \
	else \
		PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -q --disable-pip-version-check -r requirements.txt && mkdir -p .odoo && touch $(STAMP); \
	fi

## run: serve Odoo on http://127.0.0.1:8069, creating db $(PAYCRM_DB) with demo data
run: install
	@setup/run.sh

## test: fresh throw-away db, pytest-odoo over paycrm_connector/tests (+ tests/)
test: install
	@setup/test.sh

## test-odoo: Odoo's own suites (account, account_payment, sms, base_automation, portal) with the addon installed
test-odoo: install
	@setup/test_odoo.sh

## lint: all pre-commit hooks (local hooks only) over all tracked files
lint: pip-deps
	@PRE_COMMIT_HOME=$(CURDIR)/.odoo/pre-commit pre-commit run --all-files --show-diff-on-failure

## bench: every bench/bench_*.py against its own throw-away db
bench: install
ifeq ($(BENCHES),)
	@echo "no benchmarks"
else
	@set -e; for b in $(BENCHES); do setup/bench.sh $$b; done
endif

## bench-links: payment-link benchmark (send 1,000 links; click -> 303 overhead)
bench-links: install
	@setup/bench.sh bench/bench_links.py

## clean: drop leftover paycrm_test_* databases and remove .odoo/
clean:
	@for db in $$(psql -h $${PGHOST:-127.0.0.1} -p $${PGPORT:-5432} -d postgres -tAc \
		"select datname from pg_database where datname like 'paycrm\_test\_%'"); do \
		echo "dropdb $$db"; dropdb -h $${PGHOST:-127.0.0.1} -p $${PGPORT:-5432} --if-exists --force $$db; \
	done
	rm -rf .odoo

## bench-reminders: reminder preview/run at 1k and 10k invoices (SIZES=1000 to shorten)
bench-reminders: install
	@setup/bench.sh bench/bench_reminders.py --sizes $${SIZES:-1000,10000}

## bench-webhooks: webhook ack/ingest/processing vs Odoo's payment_stripe (SIZES=1000 to shorten)
bench-webhooks: install
	@setup/bench.sh bench/bench_webhooks.py --sizes $${SIZES:-1000,10000}

## bench-sync: catch-up sync of 1k and 10k missed events vs the same as webhooks (SIZES=1000 to shorten;
##   STORED_ONLY=1: no invoices, no booking, to all stored only)
bench-sync: install
	@setup/bench.sh bench/bench_sync.py --sizes $${SIZES:-1000,10000} $${STORED_ONLY:+--stored-only}

## bench-insights: profiles, partner form, analysis views at 200/5k and 2k/50k (SIZES=200:5000 to shorten)
bench-insights: install
	@setup/bench.sh bench/bench_insights.py --sizes $${SIZES:-200:5000,2000:50000}

## bench-autopay: daily auto-pay run, 5,000 invoices of 1,000 customers, two runs together vs the button (INVOICES=500 CUSTOMERS=100 to shorten)
bench-autopay: install
	@setup/bench.sh bench/bench_autopay.py --invoices $${INVOICES:-5000} --customers $${CUSTOMERS:-1000}
