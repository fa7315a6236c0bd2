#!/usr/bin/env bash
# System prerequisites: chromium (headless browser for HttpCase tours) and a
# reachable PostgreSQL server.
set -euo pipefail
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}

# --- chromium ---------------------------------------------------------------
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1; then
    :
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium (headless browser tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends chromium
else
    echo "NOTE: chromium is not installed and cannot be installed automatically" \
        "(needs root and apt-get). Browser tests (HttpCase.start_tour) will be skipped" \
        "or fail; install chromium or google-chrome by hand." >&2
fi

# --- PostgreSQL ---------------------------------------------------------------
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        echo "Starting PostgreSQL cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
        for _ in $(seq 1 30); do
            pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
            sleep 1
        done
    fi
    if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
        echo "ERROR: PostgreSQL is not reachable at $PGHOST:$PGPORT." \
            "Start it (or set PGHOST/PGPORT/PGUSER) and retry." >&2
        exit 1
    fi
fi
echo "PostgreSQL is ready at $PGHOST:$PGPORT"
