#!/usr/bin/env python3
"""Build paycrm_connector/README.rst from the OCA readme/ fragments.

OCA's oca-gen-addon-readme is not installable offline; this does the part we
need: one section per fragment, Markdown inline code turned into RST literals.
"""

import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "paycrm_connector"
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def to_rst(markdown):
    text = re.sub(r"(?<!`)`([^`\n]+)`(?!`)", r"``\1``", markdown)
    return re.sub(
        r"^#+ (.*)$", lambda m: f"{m[1]}\n{'~' * len(m[1])}", text, flags=re.M
    )


def build():
    manifest = eval((ADDON / "__manifest__.py").read_text())  # noqa: S307 - our file
    title = manifest["name"]
    parts = ["=" * len(title), title, "=" * len(title), ""]
    for name, heading in SECTIONS:
        path = ADDON / "readme" / name
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [to_rst(path.read_text()).rstrip(), ""]
    return "\n".join(parts)


if __name__ == "__main__":
    target = ADDON / "README.rst"
    content = build()
    if "--check" in sys.argv:
        if not target.exists() or target.read_text() != content:
            sys.exit("README.rst is out of date: run setup/gen_readme.py")
    else:
        target.write_text(content)
