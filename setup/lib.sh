# shellcheck shell=bash
# Shared helpers for setup/run.sh, setup/test.sh and setup/bench.sh (sourced).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
ODOO=${ODOO:-$PYTHON -m odoo}
CONF="$ROOT/.odoo/odoo.conf"
ADDON=paycrm_connector
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}

[ -f "$CONF" ] || { echo "ERROR: $CONF missing: run 'make install' first" >&2; exit 1; }

# odoo ARGS...: run Odoo with this checkout's config ($ODOO is split on spaces).
odoo() {
    # shellcheck disable=SC2086
    $ODOO -c "$CONF" "$@"
}

# db_exists DB: true when the database exists.
db_exists() {
    [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

# module_state DB MODULE: prints ir_module_module.state ("" when unknown).
module_state() {
    psql -d "$1" -tAc "select state from ir_module_module where name = '$2'" 2>/dev/null || true
}

# drop_db DB: drop the database (closing leftover connections) and its filestore.
drop_db() {
    dropdb --if-exists --force "$1" >/dev/null 2>&1 || dropdb --if-exists "$1" || true
    rm -rf "$ROOT/.odoo/data/filestore/$1"
}

# install_addon_db DB LOG: create DB and install the addon without demo data.
# Fails (printing the log's tail) when Odoo fails, logs ERROR/CRITICAL lines, or
# the addon does not end up installed.
install_addon_db() {
    local db=$1 log=$2 rc=0 state
    echo "Installing $ADDON into fresh database $db (log: ${log#"$ROOT"/})"
    drop_db "$db"
    odoo -d "$db" -i "$ADDON" --without-demo=all --stop-after-init \
        --log-level=info --no-http >"$log" 2>&1 || rc=$?
    state=$(module_state "$db" "$ADDON")
    if [ "$rc" -ne 0 ] || [ "$state" != installed ] \
            || grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log"; then
        echo "ERROR: installing $ADDON failed (exit $rc, module state '${state:-none}')." >&2
        echo "----- tail of ${log#"$ROOT"/} -----" >&2
        tail -n 80 "$log" >&2
        grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" | head -n 20 >&2 || true
        return 1
    fi
}
