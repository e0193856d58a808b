"""The local arXiv index: built once from the Kaggle metadata snapshot, memory-mapped to use.

On disk it is a folder of flat arrays, so loading 2.7M records is a handful of mmap calls and
memory is only what a lookup touches:

  ids.npy / id_sorted.npy / id_rows.npy   fixed-width ids, and a sorted copy for binary search
  {title,norm,sur,cat}.bin + *_off.npy    UTF-8 blobs with offsets (title, normalised title,
                                          "|"-joined author surnames, categories)
  first_version.npy, date_source.npy      days since 1970-01-01 (-1 unknown); how it was found
  exact_hash.npy / exact_rows.npy         64-bit hash of the normalised title -> rows (sorted)
  part_hash.npy / part_rows.npy           the same for the part before and the part after the
                                          first colon of a title ("BERT" and "Pre-training ..."
                                          for "BERT: Pre-training ..."), so a citation that drops
                                          or adds a subtitle finds its record; absent from
                                          indexes of format 1, which still load
  gram_keys.npy / gram_off.npy / postings.npy
                                          inverted index on word bigrams of normalised titles
                                          (a single-word title is indexed by its word): blocking
                                          for the fuzzy matcher
  meta.json                               format version and build statistics
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import mmap
import re
import resource
import time
import zipfile
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autoscholar.arxiv.normalize import canonical_id, id_month, normalize_title, surname
from autoscholar.errors import InputError

FORMAT = "autoscholar-arxiv-index/2"
READABLE = ("autoscholar-arxiv-index/1", FORMAT)
EPOCH = dt.date(1970, 1, 1)
DATE_SOURCES = ("versions", "update_date", "id", "none")
MAX_PART_ROWS = 50  # a head or tail shared by more titles names none of them
MAX_SURNAMES = 20  # collaborations list thousands; the first authors are the ones cited
_SEP = np.uint32(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


@dataclass(frozen=True)
class ArxivRecord:
    arxiv_id: str
    title: str
    surnames: list[str]
    first_version: dt.date | None
    categories: str
    first_version_source: str = "versions"  # versions | update_date | id | none


@dataclass
class BuildStats:
    records: int = 0
    malformed: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    bytes_on_disk: int = 0
    peak_rss_mb: float = 0.0
    date_sources: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def token_hash(token: str) -> int:
    """Stable 64-bit hash (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def gram_keys(hashes: np.ndarray) -> np.ndarray:
    """Keys of the word bigrams of one token-hash sequence (the word itself if only one)."""
    if len(hashes) == 1:
        return hashes.copy()
    with np.errstate(over="ignore"):
        return hashes[:-1] * _MIX + hashes[1:]


# ---------------------------------------------------------------- reading the snapshot


def iter_snapshot(path: Path) -> Iterator[dict | None]:
    """Kaggle snapshot lines as dicts (None for a malformed line); plain, .gz or .zip."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"arXiv snapshot not found: {path}")
    try:
        yield from _read_snapshot(path)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        # A truncated download or a file that is not what its suffix says.
        raise InputError(f"cannot read arXiv snapshot {path}: {exc}") from None


def _read_snapshot(path: Path) -> Iterator[dict | None]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if not names:
                raise InputError(f"empty zip archive: {path}")
            with zf.open(names[0]) as raw:
                yield from _parse_lines(io.TextIOWrapper(raw, encoding="utf-8", errors="replace"))
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        yield from _parse_lines(fh)


def _parse_lines(lines: Iterable[str]) -> Iterator[dict | None]:
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            yield None
            continue
        yield obj if isinstance(obj, dict) else None


def _first_version(rec: dict, arxiv_id: str) -> tuple[dt.date | None, int]:
    """versions[0].created, else update_date, else the first of the id's month."""
    versions = rec.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        parts = str(versions[0].get("created", "")).replace(",", " ").split()
        try:  # "Mon, 2 Apr 2007 19:18:42 GMT"
            return dt.date(int(parts[3]), _MONTHS[parts[2][:3].lower()], int(parts[1])), 0
        except (IndexError, KeyError, ValueError):
            pass
    try:
        return dt.date.fromisoformat(str(rec.get("update_date"))[:10]), 1
    except ValueError:
        pass
    month = id_month(arxiv_id)
    if month:
        return dt.date(month[0], month[1], 1), 2
    return None, 3


def _surnames(rec: dict) -> list[str]:
    parsed = rec.get("authors_parsed")
    names: list[str] = []
    if isinstance(parsed, list) and parsed:
        names = [normalize_title(p[0]) for p in parsed[:MAX_SURNAMES] if isinstance(p, list) and p]
    else:
        authors = rec.get("authors")
        if isinstance(authors, list):
            names = [surname(str(a)) for a in authors[:MAX_SURNAMES]]
        elif isinstance(authors, str):
            flat = authors.replace(" and ", ",").replace("\n", " ")
            names = [surname(a) for a in flat.split(",")[:MAX_SURNAMES] if a.strip()]
    return [n for n in names if n]


def _record_id(raw_id: object) -> str | None:
    """The snapshot's id without version; an id of an archive we do not know is kept as is."""
    if not isinstance(raw_id, str) or not raw_id.strip():
        return None
    text = raw_id.strip()
    known = canonical_id(text)
    if known:
        return known
    return re.sub(r"v\d+$", "", text) if _PLAIN_ID.fullmatch(text) else None


_PLAIN_ID = re.compile(r"[A-Za-z0-9.\-]+/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?")


# ---------------------------------------------------------------- building


def title_parts(title: str, norm: str | None = None) -> list[str]:
    """Normalised head and tail of a title at its first colon ("" parts and one-letter heads
    like "A: ..." dropped), the keys a dropped or added subtitle is looked up by. `norm`, the
    whole title normalised, saves normalising the tail apart."""
    head, colon, tail = title.partition(":")
    if not colon:
        return []
    head_norm = normalize_title(head)
    if norm is not None and norm.startswith(head_norm + " "):
        tail_norm = norm[len(head_norm) + 1:]
    else:
        tail_norm = normalize_title(tail)
    parts = [head_norm, tail_norm]
    return [p for p in dict.fromkeys(parts) if len(p) >= 2]


class _Blob:
    def __init__(self) -> None:
        self.data = bytearray()
        self.off = array("Q", [0])

    def add(self, text: str) -> None:
        self.data += text.encode()
        self.off.append(len(self.data))

    def save(self, out: Path, name: str) -> None:
        (out / f"{name}.bin").write_bytes(self.data)
        np.save(out / f"{name}_off.npy", np.frombuffer(self.off, dtype=np.uint64))


def build_index(snapshot: Path, out: Path, progress: Callable[[int], None] | None = None) -> BuildStats:
    """Stream a Kaggle arXiv snapshot (JSON lines; plain, .gz or .zip) into an index folder."""
    return build_index_from_records(iter_snapshot(Path(snapshot)), out, progress,
                                    empty_error=f"{snapshot} holds no valid arXiv record "
                                    "(each line a JSON object with an id and a title)")


def _aside(final: Path, what: str) -> Path:
    return final.with_name(f".{final.name}.{what}")


def _swap_in(building: Path, final: Path) -> None:
    """Replace `final` by the finished `building` folder with renames only, so an
    interruption at any point leaves a loadable index: the old one, or the new one."""
    import shutil

    old = _aside(final, "old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    building.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _clean_up_after_a_crash(final: Path) -> None:
    import shutil

    old = _aside(final, "old")
    if old.exists() and not final.exists():  # killed between the two renames of _swap_in
        old.rename(final)
    shutil.rmtree(_aside(final, "building"), ignore_errors=True)


def build_index_from_records(records: Iterable[dict | None], out: Path,
                             progress: Callable[[int], None] | None = None,
                             empty_error: str | None = None) -> BuildStats:
    """The same from Kaggle-format dicts (None or a dict without id/title counts as malformed).

    The index is built in a sibling `.NAME.building` folder and swapped in at the end, so
    Ctrl-C or a crash while building leaves an existing index at `out` as it was. With
    `empty_error`, no valid record at all is that InputError instead of an empty index."""
    start = time.perf_counter()
    final = Path(out)
    out = _aside(final, "building")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _clean_up_after_a_crash(final)
        # The swap deletes what was at `out`: only ever an index (or an empty folder).
        if final.exists() and not (final.is_dir() and (not any(final.iterdir())
                                                         or (final / "ids.npy").exists())):
            raise InputError(f"cannot write the index to {final}: it exists and is not an "
                             "arXiv index folder")
        out.mkdir()
    except OSError as exc:
        raise InputError(f"cannot write the index to {final}: {exc.strerror or exc}") from None
    try:
        stats = _build(records, out, progress, start)
        if empty_error and stats.records == 0:
            raise InputError(empty_error)
        _swap_in(out, final)
    except BaseException:
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        raise
    return stats


def _build(records: Iterable[dict | None], out: Path, progress: Callable[[int], None] | None,
           start: float) -> BuildStats:
    stats = BuildStats()
    date_counts: Counter[int] = Counter()
    seen: set[str] = set()
    ids: list[bytes] = []
    title, norm, sur, cat = _Blob(), _Blob(), _Blob(), _Blob()
    first = array("i")
    source = array("B")
    exact = array("Q")
    part_hash, part_rows = array("Q"), array("I")
    vocab: dict[str, int] = {}
    seq = array("I")  # token ids of all titles, each followed by the separator
    lines = 0
    for rec in records:
        lines += 1
        if progress and lines % 100_000 == 0:
            progress(lines)
        if not isinstance(rec, dict):
            stats.malformed += 1
            continue
        raw_id, raw_title = rec.get("id"), rec.get("title")
        arxiv_id = _record_id(raw_id)
        if not arxiv_id or not isinstance(raw_title, str) or not raw_title.strip():
            stats.malformed += 1
            continue
        if arxiv_id in seen:
            stats.duplicates += 1
            continue
        seen.add(arxiv_id)
        clean = " ".join(raw_title.split())
        key = normalize_title(clean)
        date, how = _first_version(rec, arxiv_id)
        cats = rec.get("categories")
        cats = " ".join(cats) if isinstance(cats, list) else str(cats or "")
        ids.append(arxiv_id.encode())
        title.add(clean)
        norm.add(key)
        sur.add("|".join(_surnames(rec)))
        cat.add(cats)
        first.append((date - EPOCH).days if date else -1)
        source.append(how)
        date_counts[how] += 1
        exact.append(token_hash(key))
        for part in title_parts(clean, key):
            part_hash.append(token_hash(part))
            part_rows.append(len(ids) - 1)
        seq.extend([vocab.setdefault(t, len(vocab)) for t in key.split()])
        seq.append(0xFFFFFFFF)
    if progress:
        progress(lines)
    n = len(ids)
    del seen
    id_arr = np.array(ids, dtype=f"S{max((len(i) for i in ids), default=1)}")
    del ids
    np.save(out / "ids.npy", id_arr)
    order = np.argsort(id_arr, kind="stable")
    np.save(out / "id_sorted.npy", id_arr[order])
    np.save(out / "id_rows.npy", order.astype(np.uint32))
    del id_arr, order
    for blob, name in ((title, "title"), (norm, "norm"), (sur, "sur"), (cat, "cat")):
        blob.save(out, name)
    del title, norm, sur, cat
    np.save(out / "first_version.npy", np.frombuffer(first, dtype=np.int32))
    np.save(out / "date_source.npy", np.frombuffer(source, dtype=np.uint8))
    exact_arr = np.frombuffer(exact, dtype=np.uint64)
    order = np.argsort(exact_arr, kind="stable")
    np.save(out / "exact_hash.npy", exact_arr[order])
    np.save(out / "exact_rows.npy", order.astype(np.uint32))
    del exact, exact_arr, order
    part_arr = np.frombuffer(part_hash, dtype=np.uint64)
    order = np.argsort(part_arr, kind="stable")
    np.save(out / "part_hash.npy", part_arr[order])
    np.save(out / "part_rows.npy", np.frombuffer(part_rows, dtype=np.uint32)[order])
    del part_hash, part_rows, part_arr, order
    _save_grams(out, vocab, np.frombuffer(seq, dtype=np.uint32), n)
    stats.records = n
    stats.date_sources = {DATE_SOURCES[k]: v for k, v in sorted(date_counts.items())}
    stats.seconds = round(time.perf_counter() - start, 2)
    stats.peak_rss_mb = round(peak_rss_mb(), 1)
    meta = {"format": FORMAT, "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **stats.as_dict()}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    stats.bytes_on_disk = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    return stats


def _save_grams(out: Path, vocab: dict[str, int], seq: np.ndarray, n: int) -> None:
    """Inverted index: bigram key -> sorted rows holding it."""
    vh = np.fromiter((token_hash(t) for t in vocab), dtype=np.uint64, count=len(vocab))
    del vocab
    if not len(vh):  # no record has a title word
        np.save(out / "gram_keys.npy", np.zeros(0, dtype=np.uint64))
        np.save(out / "gram_off.npy", np.zeros(1, dtype=np.uint32))
        np.save(out / "postings.npy", np.zeros(0, dtype=np.uint32))
        return
    is_sep = seq == _SEP
    rows = np.cumsum(is_sep, dtype=np.uint32) - is_sep.astype(np.uint32)  # row of each position
    h = vh[np.where(is_sep, 0, seq)]
    del vh
    pair = ~is_sep[:-1] & ~is_sep[1:]
    with np.errstate(over="ignore"):
        keys = h[:-1][pair] * _MIX + h[1:][pair]
    key_rows = rows[:-1][pair]
    # Titles of one word have no bigram: index the word itself.
    starts = np.concatenate(([0], np.flatnonzero(is_sep[:-1]) + 1))
    single = starts[(starts + 1 < len(seq)) & ~is_sep[starts] & is_sep[np.minimum(starts + 1, len(seq) - 1)]]
    keys = np.concatenate((keys, h[single]))
    key_rows = np.concatenate((key_rows, rows[single]))
    del h, rows, is_sep, pair
    order = np.lexsort((key_rows, keys))
    keys, key_rows = keys[order], key_rows[order]
    del order
    if len(keys):  # a bigram repeated in one title counts once
        keep = np.ones(len(keys), dtype=bool)
        keep[1:] = (keys[1:] != keys[:-1]) | (key_rows[1:] != key_rows[:-1])
        keys, key_rows = keys[keep], key_rows[keep]
    uniq, first_pos = np.unique(keys, return_index=True)
    offsets = np.append(first_pos, len(keys)).astype(np.uint32 if len(keys) < 2**32 else np.uint64)
    np.save(out / "gram_keys.npy", uniq)
    np.save(out / "gram_off.npy", offsets)
    np.save(out / "postings.npy", key_rows.astype(np.uint32))


# ---------------------------------------------------------------- loading and lookups


class _Strings:
    def __init__(self, folder: Path, name: str):
        self._fh = open(folder / f"{name}.bin", "rb")
        size = (folder / f"{name}.bin").stat().st_size
        self._data = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._off = np.load(folder / f"{name}_off.npy", mmap_mode="r").view(np.ndarray)

    def __getitem__(self, row: int) -> str:
        return self._data[int(self._off[row]):int(self._off[row + 1])].decode()


def _hits(sorted_hashes: np.ndarray, keys: list[str], hashes: np.ndarray) -> list[tuple[str, int, int]]:
    """(key, start, end) of each key whose hash `sorted_hashes` holds. Most keys are misses:
    one binary search finds them all, the second is only for the hits."""
    lo = np.searchsorted(sorted_hashes, hashes, side="left")
    hit = np.flatnonzero(sorted_hashes[np.minimum(lo, len(sorted_hashes) - 1)] == hashes)
    if not len(hit):
        return []
    hi = np.searchsorted(sorted_hashes, hashes[hit], side="right")
    return [(keys[k], a, b) for k, a, b in zip(hit.tolist(), lo[hit].tolist(), hi.tolist())]


class ArxivIndex:
    """A loaded index. Rows are ints; `get` looks up by arXiv id (with or without version)."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            raise InputError(f"not an arXiv index folder (no meta.json): {folder}")
        try:
            self.meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"arXiv index {folder} is damaged (meta.json: {exc}): rebuild it "
                             "with `autoscholar arxiv-index build`") from None
        if not isinstance(self.meta, dict) or self.meta.get("format") not in READABLE:
            self.meta = self.meta if isinstance(self.meta, dict) else {}
            raise InputError(f"arXiv index {folder} has format {self.meta.get('format')!r}, "
                             f"expected {FORMAT!r}: rebuild it with `autoscholar arxiv-index build`")

        def arr(name: str) -> np.ndarray:
            # A plain ndarray view of the map: np.memmap indexing is several times slower.
            return np.load(folder / f"{name}.npy", mmap_mode="r").view(np.ndarray)

        self.folder = folder
        try:
            self.ids = arr("ids")
            self._id_sorted, self._id_rows = arr("id_sorted"), arr("id_rows")
            self.titles, self.norms = _Strings(folder, "title"), _Strings(folder, "norm")
            self._sur, self._cat = _Strings(folder, "sur"), _Strings(folder, "cat")
            self._first, self._source = arr("first_version"), arr("date_source")
            self._exact_hash, self._exact_rows = arr("exact_hash"), arr("exact_rows")
            self._gram_keys, self._gram_off, self._postings = arr("gram_keys"), arr("gram_off"), arr("postings")
            has_parts = (folder / "part_hash.npy").is_file()
            self._part_hash = arr("part_hash") if has_parts else np.zeros(0, dtype=np.uint64)
            self._part_rows = arr("part_rows") if has_parts else np.zeros(0, dtype=np.uint32)
        except (OSError, ValueError) as exc:  # a missing, truncated or foreign array file
            raise InputError(f"arXiv index {folder} is damaged ({exc}): rebuild it with "
                             "`autoscholar arxiv-index build`") from None
        self._n = len(self.ids)
        self._log_n = math.log(max(self._n, 2))

    def __len__(self) -> int:
        return self._n

    def __reduce__(self):
        # Worker processes reopen the maps instead of copying them.
        return (load_index, (self.folder,))

    def row_of(self, arxiv_id: str) -> int | None:
        ident = canonical_id(arxiv_id) or arxiv_id
        key = ident.encode()
        if len(key) > self._id_sorted.dtype.itemsize:
            return None
        pos = int(np.searchsorted(self._id_sorted, key))
        if pos < self._n and self._id_sorted[pos] == key:
            return int(self._id_rows[pos])
        return None

    def get(self, arxiv_id: str) -> ArxivRecord | None:
        row = self.row_of(arxiv_id)
        return None if row is None else self.record(row)

    def record(self, row: int) -> ArxivRecord:
        return ArxivRecord(
            arxiv_id=self.ids[row].decode(),
            title=self.titles[row],
            surnames=self.surnames(row),
            first_version=self.first_version(row),
            categories=self._cat[row],
            first_version_source=self.first_version_source(row),
        )

    def surnames(self, row: int) -> list[str]:
        text = self._sur[row]
        return text.split("|") if text else []

    def first_version_source(self, row: int) -> str:
        return DATE_SOURCES[int(self._source[row])]

    def first_version(self, row: int) -> dt.date | None:
        days = int(self._first[row])
        return None if days < 0 else EPOCH + dt.timedelta(days=days)

    def rows_with_title(self, norm_title: str) -> list[int]:
        """Rows whose normalised title is exactly `norm_title`."""
        return self.rows_with_titles([norm_title])

    @staticmethod
    def title_hashes(norm_titles: list[str]) -> np.ndarray:
        return np.fromiter((token_hash(t) for t in norm_titles), dtype=np.uint64, count=len(norm_titles))

    def rows_with_titles(self, norm_titles: list[str], hashes: np.ndarray | None = None) -> list[int]:
        """Rows whose normalised title is exactly one of `norm_titles` (one vectorised lookup);
        `hashes`: their title_hashes, when the caller has them."""
        keep = [k for k, t in enumerate(norm_titles) if t]
        keys = [norm_titles[k] for k in keep]
        if not keys or not self._n:
            return []
        hashes = self.title_hashes(keys) if hashes is None else hashes[keep]
        found = []
        for key, a, b in _hits(self._exact_hash, keys, hashes):
            for row in self._exact_rows[a:b].tolist():
                if self.norms[row] == key:  # a hash collision is not a match
                    found.append(row)
        return found

    def rows_with_part(self, norm_titles: list[str], hashes: np.ndarray | None = None) -> list[int]:
        """Rows whose title, split at its first colon, has one of `norm_titles` as head or tail."""
        keep = [k for k, t in enumerate(norm_titles) if t]
        keys = [norm_titles[k] for k in keep]
        if not keys or not len(self._part_hash):
            return []
        hashes = self.title_hashes(keys) if hashes is None else hashes[keep]
        found: dict[int, None] = {}
        for key, a, b in _hits(self._part_hash, keys, hashes):
            if b - a > MAX_PART_ROWS:  # "A survey", "An overview": a subtitle, not a title
                continue
            for row in self._part_rows[a:b].tolist():
                # A hash collision is not a match. The head and tail are nearly always the
                # normalised title's first or last words: checked so before normalising anew.
                norm = self.norms[row]
                if (norm.startswith(key + " ") or norm.endswith(" " + key)
                        or key in title_parts(self.titles[row], norm)):
                    found[row] = None
        return list(found)

    def candidates(self, norm_text: str, limit: int = 25, rarest: int = 12,
                   max_df: int = 20_000) -> list[int]:
        """Rows whose titles share the most rare word bigrams with `norm_text` (blocking).

        Only the `rarest` bigrams of the text with document frequency <= max_df are used, so
        the work per query is bounded whatever the text holds (authors, venue, pages).
        """
        tokens = norm_text.split()
        if not tokens or not len(self._gram_keys):
            return []
        hashes = np.fromiter((token_hash(t) for t in tokens), dtype=np.uint64, count=len(tokens))
        keys = np.unique(np.concatenate((gram_keys(hashes), hashes)))
        pos = np.minimum(np.searchsorted(self._gram_keys, keys), len(self._gram_keys) - 1)
        pos = pos[self._gram_keys[pos] == keys]
        if not len(pos):
            return []
        starts = self._gram_off[pos].astype(np.int64)
        df = self._gram_off[pos + 1].astype(np.int64) - starts
        ok = (df > 0) & (df <= max_df)
        starts, df = starts[ok], df[ok]
        if not len(df):
            return []
        pick = np.argsort(df, kind="stable")[:rarest]
        rows = np.concatenate([self._postings[s:s + d] for s, d in zip(starts[pick], df[pick])])
        weights = np.repeat(np.log(self._n / df[pick]) / self._log_n + 1.0, df[pick])
        uniq, inverse = np.unique(rows, return_inverse=True)
        score = np.bincount(inverse, weights=weights)
        if len(uniq) > limit:
            top = np.argpartition(-score, limit - 1)[:limit]
        else:
            top = np.arange(len(uniq))
        top = top[np.lexsort((uniq[top], -score[top]))]
        return [int(r) for r in uniq[top]]


def load_index(path: Path) -> ArxivIndex:
    return ArxivIndex(Path(path))


_LOADED: dict[tuple, ArxivIndex] = {}


def cached_index(path: Path) -> ArxivIndex:
    """The index at `path`, loaded once per process: a Ray worker runs many match shards, and
    each would otherwise map the arrays again. Keyed by meta.json's identity on disk, so an
    index rebuilt in place is loaded anew."""
    path = Path(path).resolve()
    try:
        meta = (path / "meta.json").stat()
        key = (str(path), meta.st_ino, meta.st_mtime_ns, meta.st_size)
    except OSError:
        return load_index(path)  # which says what is wrong with it
    if key not in _LOADED:
        _LOADED.clear()  # one index in use at a time: drop the maps of an older one
        _LOADED[key] = load_index(path)
    return _LOADED[key]
