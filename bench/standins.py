"""The gateway stand-ins of the addon's tests, for the benchmarks.

They are plain Python, but importing them as ``odoo.addons.paycrm_connector.tests``
would run that package's ``__init__`` (every test module, and Odoo's test tools
with them). A bare package over the same folder imports only what is asked for,
and their relative imports (``.http_standin``) still resolve.
"""

import importlib
import sys
import types
from pathlib import Path

PACKAGE = "paycrm_standins"
TESTS = Path(__file__).resolve().parents[1] / "paycrm_connector" / "tests"


def load(name):
    """The module ``name`` (e.g. ``stripe_standin``) of the addon's tests folder."""
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE)
        package.__path__ = [str(TESTS)]
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{name}")
