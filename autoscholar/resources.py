"""Files shipped with the package: prompts/ and data/ at the repository's top level.

Installed, they are the packages autoscholar.prompts and autoscholar.data. Run from a source
checkout (python -m autoscholar.cli, or the repo on sys.path), they are the top-level folders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def resource(folder: str, name: str) -> Path:
    """Path of `name` in prompts/ or data/."""
    try:
        path = Path(str(resources.files(f"autoscholar.{folder}").joinpath(name)))
    except ModuleNotFoundError:
        path = _REPO / folder / name
    return path if path.exists() else _REPO / folder / name
