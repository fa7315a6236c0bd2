#!/usr/bin/env bash
# Run one benchmark script against a throw-away database with paycrm_connector
# installed (no demo data):  setup/bench.sh bench/bench_links.py [ARGS...]
# The script gets ODOO_RC (config file) and PAYCRM_DB (database name) in its
# environment plus PAYCRM_BENCH_RESULTS (bench/results, gitignored) for output.
set -euo pipefail
# shellcheck source=setup/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

script=${1:?usage: setup/bench.sh bench/bench_NAME.py [ARGS...]}
shift
name=$(basename "$script" .py)
DB=${BENCH_DB:-paycrm_test_${name#bench_}_$$}
LOG="$ROOT/.odoo/$name-install.log"
trap 'drop_db "$DB"' EXIT
trap 'exit 130' INT TERM

install_addon_db "$DB" "$LOG"
mkdir -p "$ROOT/bench/results"
echo "== $script (database $DB)"
ODOO_RC="$CONF" PAYCRM_DB="$DB" PAYCRM_BENCH_RESULTS="$ROOT/bench/results" \
    "$PYTHON" "$script" "$@"
