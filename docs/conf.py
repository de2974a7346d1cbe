"""Sphinx configuration: MyST Markdown pages, the furo theme, and the reference pages generated
from the plugin's code (``_ext/indexguard_docs.py``).

Build (warnings are errors, as in ``.ci/run``)::

    sphinx-build -W --keep-going -E -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the plugin, also when it is not installed

from pytest_indexguard import __version__  # noqa: E402

project = "pytest-indexguard"
author = "pytest-indexguard developers"
copyright = "pytest-indexguard developers"
version = release = __version__

extensions = ["myst_parser", "indexguard_docs"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# Broken references fail the build (with -W): options, ini settings, documents and headings.
nitpicky = True
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# A relative link that is not a document must be a file the build copies (the workflows).
suppress_warnings: list[str] = []

html_theme = "furo"
html_title = f"pytest-indexguard {release}"
