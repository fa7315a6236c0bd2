#!/usr/bin/env bash
# Install Odoo 18.0 into the current Python unless `import odoo` already works.
# Source: $ODOO_SRC when set, otherwise a shallow clone of Odoo's official 18.0 branch.
set -euo pipefail
PYTHON=${PYTHON:-python3}

if "$PYTHON" -c "import odoo.release as r; assert r.version_info[0] == 18" 2>/dev/null; then
    echo "Odoo 18 already importable: skipping Odoo install"
    exit 0
fi

if [ -z "${ODOO_SRC:-}" ]; then
    ODOO_SRC="${HOME}/.cache/paycrm/odoo-18.0"
    if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        echo "Cloning Odoo 18.0 into $ODOO_SRC"
        git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$ODOO_SRC"
    fi
fi
[ -f "$ODOO_SRC/odoo/release.py" ] || { echo "ODOO_SRC=$ODOO_SRC is not an Odoo checkout" >&2; exit 1; }

# Odoo's pins predate Python 3.11 wheels for some packages: adjust the few that
# do not build here (psycopg2 needs libpq headers, python-ldap needs libldap).
req=$(mktemp)
sed -E \
    -e 's/^psycopg2==/psycopg2-binary==/' \
    -e '/^python-ldap/d' \
    -e 's/^cbor2==[^;]*/cbor2 /' \
    -e 's/^lxml==[^;]*;.*/lxml==5.2.1/' \
    -e 's/^lxml-html-clean.*/lxml-html-clean/' \
    -e 's/^Werkzeug==[^;]*;.*/Werkzeug==3.0.1/' \
    "$ODOO_SRC/requirements.txt" | awk '!seen[$0]++' > "$req"
"$PYTHON" -m pip install -q wheel setuptools
"$PYTHON" -m pip install -q -r "$req"
"$PYTHON" -m pip install -q --no-deps --no-build-isolation -e "$ODOO_SRC"
rm -f "$req"
"$PYTHON" -c "import odoo.release as r; print('Installed Odoo', r.version)"
