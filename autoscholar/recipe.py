"""What a dataset of several venues is made of: its members (one venue-year each) and the
settings they share, from repeated --venue flags or a TOML recipe file.

A member is written `VENUE:YEAR` (`iclr:2023`), `demo` (no years), or `local:FOLDER` (a
folder of PDFs: a folder has no year, so what follows the colon is its path). The recipe holds
the same, plus the shared settings under their Settings names:

    out = "runs/asq"                     # optional; --out wins
    venues = ["iclr:2023", "icml:2023", "neurips:2023", "acl:2024", "cvpr:2024"]

    [settings]                           # optional; flags given on the command line win
    llm = "gpt-4o-mini"
    arxiv_index = "arxiv-index"

Relative folders in a recipe (out, local members, path settings) are read from the recipe's
own folder, so a recipe means the same whichever directory it is run from.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InputError
from .sources import SOURCES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject's conditional dependency)
    import tomli as tomllib

# Settings fields that name a file or folder: relative ones in a recipe are the recipe's.
PATH_SETTINGS = ("arxiv_index", "llm_price_file")
# Settings a member owns: a shared one would make every member the same venue.
MEMBER_FIELDS = ("venue", "year", "pdf_dir", "run_dir")


class Member(BaseModel):
    """One venue-year of a combined dataset: a normal run directory of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    venue: str
    year: int | None = None
    pdf_dir: Path | None = None

    @property
    def name(self) -> str:
        """Its run directory under the output folder: the name a single build would give it
        (runs/<venue>-<year>, runs/demo, runs/local-<folder>)."""
        from .config import Settings

        return Settings(venue=self.venue, year=self.year, pdf_dir=self.pdf_dir).resolved_run_dir().name

    def sort_key(self) -> tuple:
        return (self.venue, self.year or 0, self.name)


class Recipe(BaseModel):
    """The TOML recipe file, as read (before the members are checked)."""

    model_config = ConfigDict(extra="forbid")

    out: Path | None = None
    venues: list[str]
    settings: dict = {}


def parse_member(spec: str, year: int | None = None, base: Path | None = None) -> Member:
    """`iclr:2023`, `demo`, `local:papers/` -> a Member, or one line saying what is wrong.
    `year` is --year, which applies to members given without one."""
    name, colon, rest = spec.strip().partition(":")
    source = SOURCES.get(name)
    if source is None:
        raise InputError(f"unknown venue {name!r} in {spec!r}: one of {', '.join(SOURCES)}")
    if name == "local":
        if not rest:
            raise InputError("--venue local beside other venues needs its own folder: "
                             "--venue local:FOLDER")
        folder = Path(rest)
        return Member(venue=name, pdf_dir=(base / folder) if base and not folder.is_absolute()
                      else folder, year=year)
    if colon and not source.needs_year:
        raise InputError(f"--venue {name} has no years: write {name}, not {spec!r}")
    if colon:
        if year is not None:
            raise InputError(f"--venue {spec} gives its year: drop --year, or write --venue "
                             f"{name} --year {year}")
        try:
            year = int(rest)
        except ValueError:
            raise InputError(f"--venue {spec}: the year must be a number, as in {name}:2023") from None
    if source.needs_year and year is None:
        raise InputError(f"--venue {name} needs a year: --venue {name}:YEAR")
    if not source.needs_year:
        year = None  # --year with the demo among others: the demo has none
    if year is not None and (why := source.check_year(year)):
        raise InputError(f"--venue {name}:{year} is outside what {name} {why}")
    return Member(venue=name, year=year)


def members_of(specs: list[str], year: int | None = None, base: Path | None = None) -> list[Member]:
    """The members in venue-year order (never argument order), refusing duplicates."""
    members = [parse_member(s, year, base) for s in specs]
    seen: dict[str, str] = {}
    for spec, member in zip(specs, members):
        if member.name in seen:
            raise InputError(f"--venue {spec} and --venue {seen[member.name]} are the same "
                             f"venue-year ({member.name}): give each once")
        seen[member.name] = spec
    return sorted(members, key=Member.sort_key)


def load_recipe(path: Path) -> tuple[list[Member], dict, Path | None]:
    """A recipe file -> (members, shared settings, out folder), every relative path in it read
    from the recipe's folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read recipe {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"recipe {path} is not TOML: {exc}") from None
    try:
        recipe = Recipe(**raw)
    except (ValidationError, TypeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        where = ".".join(map(str, first["loc"]))
        raise InputError(f"recipe {path}: {where + ': ' if where else ''}{first['msg']}") from None
    if not recipe.venues:
        raise InputError(f"recipe {path} lists no venues: venues = [\"iclr:2023\", ...]")
    owned = sorted(set(recipe.settings) & set(MEMBER_FIELDS))
    if owned:
        raise InputError(f"recipe {path}: {', '.join(owned)} belong to each member (in venues), "
                         "not to [settings]")
    base = path.resolve().parent
    settings = dict(recipe.settings)
    for field in PATH_SETTINGS:
        if isinstance(settings.get(field), str) and not Path(settings[field]).is_absolute():
            settings[field] = str(base / settings[field])
    out = recipe.out if recipe.out is None or recipe.out.is_absolute() else base / recipe.out
    return members_of(recipe.venues, base=base), settings, out
