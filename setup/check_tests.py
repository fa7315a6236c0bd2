#!/usr/bin/env python3
"""Every addon test runs under Odoo's own loader as well as under pytest-odoo.

Odoo's loader (``--test-enable --test-tags /paycrm_connector``, as OCA's CI runs
it) only runs the ``test_*`` modules that ``tests/__init__.py`` imports, and in
them only the ``test*`` methods a ``TestCase`` class defines itself. pytest also
runs every ``test_*.py`` file, module-level test functions, fixtures and
parametrised cases, and inherited test methods: a test written that way passes
in ``make test`` and never runs in Odoo's loader.

As a script (a ``make lint`` hook) it reads the test files, without importing
them, and fails when one escapes Odoo's loader. As a pytest plugin (``-p
check_tests``, loaded by setup/test.sh) it prints, after the run, how many addon
tests pytest ran next to how many Odoo's loader runs.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "paycrm_connector" / "tests"


def _test_methods(cls):
    return [
        node.name
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
    ]


def _name(node):
    """``Base`` for ``Base`` or ``module.Base``; ``tagged`` for ``tagged(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return getattr(node, "id", "")


def _imported(init):
    """The module names ``tests/__init__.py`` imports (``from . import x``)."""
    names = set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            names.update(alias.name for alias in node.names)
    return names


def scan(tests=TESTS):
    """``(problems, classes)``: what keeps a test from Odoo's loader, and
    ``{(file, class): [test methods]}`` of the classes it runs."""
    problems, classes, bases = [], {}, {}
    imported = _imported(tests / "__init__.py")
    for path in sorted(tests.glob("test_*.py")):
        rel = path.relative_to(ROOT)
        if path.stem not in imported:
            problems.append(f"{rel}: not imported in tests/__init__.py")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                if any(m.split(".")[0] == "pytest" for m in modules):
                    problems.append(
                        f"{rel}:{node.lineno}: imports pytest (fixtures, marks and "
                        "parametrize are pytest only: use setUp/setUpClass, subTest)"
                    )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("test"):
                    problems.append(
                        f"{rel}:{node.lineno}: module-level {node.name}() runs only "
                        "under pytest: make it a method of a TestCase class"
                    )
            elif isinstance(node, ast.ClassDef):
                methods = _test_methods(node)
                bases[node.name] = [_name(base) for base in node.bases]
                if not methods:
                    continue
                where = f"{rel}:{node.lineno}: {node.name}"
                if not node.bases:
                    problems.append(f"{where} is not a TestCase (pytest only)")
                    continue
                if "tagged" not in {_name(d) for d in node.decorator_list}:
                    problems.append(
                        f'{where} has no @tagged("post_install", "-at_install")'
                    )
                classes[(rel, node.name)] = methods
    # Inherited test methods run again under pytest, never under Odoo's loader.
    with_tests = {name for _rel, name in classes}
    for rel, name in classes:
        for base in bases.get(name, ()):
            if base in with_tests:
                problems.append(
                    f"{rel}: {name} inherits the tests of {base}: pytest runs them "
                    "twice, Odoo's loader once; share a base class without tests"
                )
    return problems, classes


def odoo_count(tests=TESTS):
    """``(tests, classes, files)`` Odoo's loader runs (imported files only)."""
    imported = _imported(tests / "__init__.py")
    _problems, classes = scan(tests)
    counted = {key: m for key, m in classes.items() if key[0].stem in imported}
    files = {rel for rel, _name in counted}
    return sum(map(len, counted.values())), len(counted), len(files)


def main():
    problems, _classes = scan()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"{len(problems)} problem(s): these tests would not run under Odoo's "
            "loader (--test-enable --test-tags /paycrm_connector)",
            file=sys.stderr,
        )
        return 1
    tests, classes, files = odoo_count()
    print(
        f"{TESTS.relative_to(ROOT)}: {tests} tests in {classes} classes, {files} files"
    )
    return 0


# -- pytest plugin (setup/test.sh: -p check_tests) ------------------------------

_ran = set()


def pytest_runtest_logfinish(nodeid, location):
    _ran.add(nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    prefix = f"{TESTS.relative_to(ROOT).as_posix()}/"
    ran = sum(1 for nodeid in _ran if nodeid.startswith(prefix))
    tests, classes, files = odoo_count()
    filtered = bool(terminalreporter.stats.get("deselected")) or ran < tests
    line = (
        f"{prefix}: pytest ran {ran} tests; Odoo's loader runs {tests} "
        f"({classes} classes in {files} files, counted by setup/check_tests.py)"
    )
    if filtered:
        line += "; this run was filtered or stopped early"
    terminalreporter.write_sep("-", "test count")
    terminalreporter.write_line(line)
    if not filtered and ran != tests:
        terminalreporter.write_line(
            "WARNING: the counts differ: run setup/check_tests.py", red=True
        )


if __name__ == "__main__":
    sys.exit(main())
