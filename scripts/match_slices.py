"""The failure classes of issue 11 as named evaluation slices, made by rule from real records.

Every slice starts from real catalogue records of ../shared/data/arxiv (real titles, authors and
first-version years) and changes them by one rule; `want` is the arXiv id a correct resolver
returns (None: any link is a false link). Records are drawn with a seeded RNG, so a rerun builds
the same slices. Used by eval_match.py.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from autoscholar.arxiv.normalize import id_month, normalize_title
from autoscholar.records import BibEntry

STOP = frozenset("a an the of for in on and or to with by from at as is are via its into using "
                 "towards toward do does we our not be can".split())
VENUES = ["Advances in Neural Information Processing Systems", "ICML", "Proc. CVPR", "ACL",
          "International Conference on Learning Representations", "EMNLP", "AAAI",
          "IEEE Transactions on Pattern Analysis and Machine Intelligence"]
CONNECT = ["for", "with", "in", "via", "beyond"]
PER_SLICE = 200


@dataclass
class Item:
    slice: str
    entry: BibEntry
    want: str | None  # the right answer; None: the paper is not in the index
    rule: str  # which variant of the slice's rule made it


def year_of(rec: dict) -> int | None:
    versions = rec.get("versions") or []
    if versions:
        return int(versions[0]["created"].split()[3])
    month = id_month(rec["id"])
    return month[0] if month else None


def names_of(rec: dict) -> list[str]:
    return [a.strip() for a in rec.get("authors", "").split(", ") if a.strip()]


def surnames(rec: dict) -> set[str]:
    return {normalize_title(n.split()[-1]) for n in names_of(rec)}


def fmt(names: list[str], title: str, year: int | None, style: int, venue: str) -> str:
    """One reference string in one of five bibliography styles (no authors: title first)."""
    y = str(year) if year else ""
    last = [n.split()[-1] for n in names]
    inits = [" ".join(f"{p[0]}." for p in n.split()[:-1]) for n in names]
    if not names:
        return f"{title}. In {venue}, {y}." if y else f"{title}. In {venue}."
    if style == 0:
        return f"{', '.join(f'{i} {s}'.strip() for i, s in zip(inits, last))}. {title}. In {venue}, {y}."
    if style == 1:
        return f"{', '.join(f'{s}, {i}'.rstrip(', ') for s, i in zip(last, inits))}: {title}. In: {venue} ({y})"
    if style == 2:
        return f"{' '.join(last[:2])} et al ({y}) {title}. {venue} 12:34-56"
    if style == 3:
        return f"{inits[0]} {last[0]} et al., “{title},” in {venue}, {y}, pp. 1–10."
    return f"{' and '.join(names[:3])}. {y}. {title}. In {venue}."


def content_words(title: str) -> list[str]:
    return [w for w in normalize_title(title).split() if len(w) >= 4 and w not in STOP and w.isalpha()]


class Builder:
    def __init__(self, records: dict[str, dict], index_norms: set[str], seed: str):
        self.rng = random.Random(seed)
        self.records = records
        self.norms = index_norms  # normalised titles in the index: a variant must not be one
        self.pool = sorted(records)
        self.vocab = sorted({w for r in records.values() for w in content_words(r["title"])})
        self.tails = sorted({r["title"].split(": ", 1)[1] for r in records.values()
                             if ": " in r["title"] and len(r["title"].split(": ", 1)[1].split()) >= 3})

    def ref(self, rec: dict, title: str, names: list[str] | None = None, year: int | None = None,
            extra: str = "") -> BibEntry:
        names = names_of(rec)[:4] if names is None else names
        year = year_of(rec) if year is None else year
        style = self.rng.randrange(5)
        raw = fmt(names, title, year, style, self.rng.choice(VENUES))
        return BibEntry(key=rec["id"], raw=f"{raw} {extra}".strip())

    def other_authors(self, rec: dict) -> list[str]:
        mine = surnames(rec)
        while True:
            other = self.records[self.rng.choice(self.pool)]
            if names_of(other) and not surnames(other) & mine:
                return names_of(other)[:4]

    def swap_word(self, title: str, first: bool) -> str | None:
        """The title with one content word (the first, or any) replaced by another real one."""
        words = title.split()
        spots = [i for i, w in enumerate(words) if normalize_title(w) in set(content_words(w))]
        if not spots:
            return None
        i = spots[0] if first else self.rng.choice(spots)
        new = self.rng.choice(self.vocab)
        if new == normalize_title(words[i]):
            return None
        words[i] = new.capitalize() if words[i][:1].isupper() else new
        out = " ".join(words)
        return None if normalize_title(out) in self.norms else out

    def sample(self, ok, n: int = PER_SLICE) -> list[dict]:
        picked = []
        for key in self.rng.sample(self.pool, len(self.pool)):
            rec = self.records[key]
            if ok(rec):
                picked.append(rec)
                if len(picked) == n:
                    break
        return picked


def _long(rec: dict, words: int = 4) -> bool:
    return len(rec["title"].split()) >= words and year_of(rec) is not None


def build_slices(records: dict[str, dict], absent: dict[str, dict], index_norms: set[str]) -> list[Item]:
    """`records`: the index's real records; `absent`: real records kept out of the index."""
    b = Builder(records, index_norms, "issue-11")
    items: list[Item] = []
    colon = re.compile(r"^([^:]{2,}): (\S.*)$")

    # The arXiv title carries a subtitle the citation drops (or prints only the subtitle).
    for k, rec in enumerate(b.sample(lambda r: names_of(r) and colon.match(r["title"]) and _long(r, 4))):
        head, tail = colon.match(rec["title"]).groups()
        part, rule = (tail, "tail-printed") if k % 3 == 2 else (head, "head-printed")
        year = year_of(rec) + (k % 2)  # the arXiv year or the next (the published version)
        items.append(Item("subtitle-dropped", b.ref(rec, part, year=year), rec["id"], rule))
    # The citation adds a subtitle the arXiv record lacks.
    for k, rec in enumerate(b.sample(lambda r: names_of(r) and ":" not in r["title"] and _long(r, 3))):
        title = f"{rec['title']}: {b.rng.choice(b.tails)}"
        items.append(Item("subtitle-added", b.ref(rec, title, year=year_of(rec) + (k % 2)), rec["id"], "tail-added"))
    # One content word differs between versions; authors and year agree.
    for rec in b.sample(lambda r: names_of(r) and _long(r, 5)):
        title = b.swap_word(rec["title"], first=False)
        if title:
            items.append(Item("one-word-differs", b.ref(rec, title), rec["id"], "word-swapped"))
    # A short catalogue title inside a longer printed title, by other authors or none printed.
    for k, rec in enumerate(b.sample(lambda r: names_of(r) and 2 <= len(r["title"].split()) <= 4
                                     and year_of(r) is not None)):
        longer = (f"{rec['title']}: {b.rng.choice(b.tails)}" if k % 2 == 0 else
                  f"{rec['title']} {b.rng.choice(CONNECT)} {' '.join(b.rng.sample(b.vocab, 3))}")
        if normalize_title(longer) in index_norms:
            continue
        names = b.other_authors(rec) if k % 4 < 2 else []
        items.append(Item("partial-cover", b.ref(rec, longer, names=names), None,
                          ("other-authors" if names else "no-authors") + ("/subtitle" if k % 2 == 0 else "/words")))
    # Same first author, one word different (the first), another year: another paper of theirs.
    for k, rec in enumerate(b.sample(lambda r: names_of(r) and _long(r, 4))):
        title = b.swap_word(rec["title"], first=True)
        if title:
            items.append(Item("same-author-other-year", b.ref(rec, title, year=year_of(rec) + 1 + k % 2),
                              None, f"year+{1 + k % 2}"))
    # Records without authors: linked on a whole title, never on a part of one.
    for k, rec in enumerate(b.sample(lambda r: not names_of(r) and _long(r, 3))):
        rule = ("exact", "typo", "longer", "part")[k % 4]
        title, want = rec["title"], rec["id"]
        if rule == "typo":
            words = title.split()
            i = max(range(len(words)), key=lambda j: len(words[j]))
            words[i] = words[i][:-2] + words[i][-1]
            title = " ".join(words)
        elif rule == "longer":
            title, want = f"{title}: {b.rng.choice(b.tails)}", None
        elif rule == "part":
            m = colon.match(title)
            if not m or len(m.group(1).split()) < 2:
                continue
            title, want = m.group(1), None
        items.append(Item("no-author-records", b.ref(rec, title, names=b.other_authors(rec)), want, rule))
    # A printed arXiv id the index lacks: kept (unverified) when prefixed, never from a bare number.
    for k, rec in enumerate(sorted(absent.values(), key=lambda r: r["id"])):
        if k % 3 == 2:
            items.append(Item("printed-id-absent", b.ref(rec, rec["title"], extra=f"Tech. Rep. {rec['id']}."),
                              None, "bare-number"))
        else:
            ident = f"arXiv:{rec['id']}" if k % 3 == 0 else f"https://arxiv.org/abs/{rec['id']}v2"
            items.append(Item("printed-id-absent", b.ref(rec, rec["title"], extra=ident), rec["id"], "prefixed"))
    # The printed id belongs to a paper by other authors: the printed title decides.
    by_id = sorted(records)
    for k, rec in enumerate(b.sample(lambda r: names_of(r) and _long(r, 4), n=PER_SLICE // 2)
                            + sorted(absent.values(), key=lambda r: r["id"])[:PER_SLICE // 2]):
        here = rec["id"] in records
        mine = surnames(rec)
        pos = b.rng.randrange(len(by_id))
        other = next(records[by_id[(pos + j) % len(by_id)]] for j in range(len(by_id))
                     if names_of(records[by_id[(pos + j) % len(by_id)]])
                     and not surnames(records[by_id[(pos + j) % len(by_id)]]) & mine
                     and by_id[(pos + j) % len(by_id)] != rec["id"])
        items.append(Item("id-author-mismatch", b.ref(rec, rec["title"], extra=f"arXiv:{other['id']}"),
                          rec["id"] if here else None, "title-in-index" if here else "title-absent"))
    return items


def choose_absent(records: dict[str, dict], keep: set[str], n: int = PER_SLICE) -> dict[str, dict]:
    """Real records to keep out of the index (never a gold paper of the real slices)."""
    rng = random.Random("issue-11-absent")
    ok = [k for k in sorted(records) if k not in keep and "/" not in k and names_of(records[k])
          and len(records[k]["title"].split()) >= 4]
    return {k: records[k] for k in rng.sample(ok, n)}
