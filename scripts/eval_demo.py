"""Score a demo run's published dataset against the demo's gold answers.

Usage: python scripts/eval_demo.py RUN_DIR [--min-recall 0.9] [--min-sentence-recall 0.0]
                                   [--stage dataset|match] [--json]

The scorer lives in autoscholar/sources/demo/score.py, beside the gold; see its docstring.
"""

from __future__ import annotations

import sys

from autoscholar.sources.demo.score import main, score  # noqa: F401 (score: importable here too)

if __name__ == "__main__":
    sys.exit(main())
