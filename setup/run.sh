#!/usr/bin/env bash
# Serve Odoo on http://127.0.0.1:${PAYCRM_HTTP_PORT:-8069} with database PAYCRM_DB
# (default paycrm) until Ctrl-C. The database is created on first run with
# paycrm_connector and demo data installed (login admin / admin).
# PAYCRM_UPDATE=1 upgrades paycrm_connector (-u) before serving.
set -euo pipefail
# shellcheck source=setup/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${PAYCRM_DB:-paycrm}
PORT=${PAYCRM_HTTP_PORT:-8069}
args=(-d "$DB" --db-filter="^${DB}\$" --http-port="$PORT")
if ! db_exists "$DB"; then
    echo "Creating database $DB with $ADDON and demo data (login admin / admin)"
    # Odoo 18 loads demo data unless --without-demo is given; the empty value
    # also overrides any without_demo set in a config file.
    odoo -d "$DB" -i "$ADDON" --without-demo= --stop-after-init --no-http
    # Every link the addon hands out is built from web.base.url; frozen, so an
    # admin logging in through another host name cannot rewrite it.
    psql -q -d "$DB" -c "
        INSERT INTO ir_config_parameter (key, value, create_date, write_date)
        VALUES ('web.base.url', 'http://127.0.0.1:$PORT', now(), now()),
               ('web.base.url.freeze', 'True', now(), now())
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_date = now()"
elif [ "$(module_state "$DB" "$ADDON")" != installed ]; then
    args+=(-i "$ADDON")
elif [ -n "${PAYCRM_UPDATE:-}" ]; then
    args+=(-u "$ADDON")
fi
echo "Serving $DB on http://127.0.0.1:$PORT (Ctrl-C to stop)"
# Serve through Odoo's own odoo-bin when its source tree has one: a server
# that reloads itself (a worker over its time limit) re-runs its command
# line, which "python -m odoo" cannot survive.
launcher="$($PYTHON -c 'import os, odoo; print(os.path.dirname(os.path.dirname(odoo.__file__)))')/odoo-bin"
if [ "$ODOO" = "$PYTHON -m odoo" ] && [ -f "$launcher" ]; then
    exec "$PYTHON" "$launcher" -c "$CONF" "${args[@]}" "$@"
fi
# shellcheck disable=SC2086
exec $ODOO -c "$CONF" "${args[@]}" "$@"
