"""Benchmarks of pytest-indexguard: not part of the test suite's pass or fail (see run.py)."""

import sys
from pathlib import Path

# The sample project's modules (its database server, its table formatting) are used here too.
_SAMPLE_APP = str(Path(__file__).resolve().parent.parent / "sample_app")
if _SAMPLE_APP not in sys.path:
    sys.path.insert(0, _SAMPLE_APP)
