#!/usr/bin/env bash
# Run the test suite against a throw-away database:
#   1. create TEST_DB (default paycrm_test_<pid>) and install paycrm_connector
#      without demo data (log: .odoo/test-install.log);
#   2. run pytest-odoo (with an in-process HTTP server on a random free port for
#      HttpCase) over paycrm_connector/tests and tests/ (when it has test files);
#   3. print how many addon tests pytest ran next to how many Odoo's own loader
#      runs (setup/check_tests.py, loaded as a pytest plugin);
#   4. drop the database, whatever happened.
# Extra pytest arguments: PYTEST_ARGS="-k webhook -x" (or arguments to this script).
set -euo pipefail
# shellcheck source=setup/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${TEST_DB:-paycrm_test_$$}
LOG="$ROOT/.odoo/test-install.log"
trap 'drop_db "$DB"' EXIT
trap 'exit 130' INT TERM

install_addon_db "$DB" "$LOG"

paths=()
[ -d "$ADDON/tests" ] && paths+=("$ADDON/tests")
if [ -d tests ] && [ -n "$(find tests -name 'test_*.py' -o -name '*_test.py' | head -n 1)" ]; then
    paths+=(tests)
fi
[ ${#paths[@]} -gt 0 ] || { echo "ERROR: no test directory found" >&2; exit 1; }

# PYTEST_ARGS is split as the shell splits words, quotes included, so that
# PYTEST_ARGS="-k 'webhook or intake'" passes one -k expression.
eval "extra=(${PYTEST_ARGS:-})"
PYTHONPATH="$ROOT/setup${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m pytest -p check_tests \
    --odoo-config "$CONF" --odoo-database "$DB" --odoo-http \
    "${paths[@]}" "${extra[@]}" "$@"
