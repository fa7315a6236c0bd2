# Odoo runs the test modules imported here; plain pytest modules (stand-in checks)
# are collected by pytest directly and need no import.
