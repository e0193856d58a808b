"""Reference resolution at full arXiv scale: build, load, refs/s, peak RSS, vs a full scan.

Writes a temporary Kaggle-format snapshot of --records records (default 2.7M, about the size of
the real arXiv catalogue): the real records of ../shared/data/arxiv first, then generated ones
(titles drawn from the word distribution of the real titles, real surnames, abstracts of
realistic length) to reach the count. Then, each in its own process so peak RSS is its own:
  build    build_index over the snapshot file
  resolve  load_index, then resolve reference strings one by one on one core
  scan     rapidfuzz process.extractOne over all normalised titles (the baseline), on a sample
The references are formatted from real catalogue records in several bibliography styles
(id printed / id cut out, with typos and hyphenation breaks), plus titles of non-arXiv papers.

    python scripts/bench_match.py [--records 2700000] [--refs 5000] [--scan-sample 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_match import DATA, catalog_records  # noqa: E402

from autoscholar.arxiv.index import build_index, load_index, peak_rss_mb  # noqa: E402
from autoscholar.arxiv.resolve import resolve_raw  # noqa: E402
from autoscholar.arxiv.normalize import id_month, normalize_title  # noqa: E402

VENUES = ["Advances in Neural Information Processing Systems", "ICML", "Proc. CVPR", "ACL",
          "International Conference on Learning Representations", "Phys. Rev. D 95", "EMNLP",
          "IEEE Transactions on Pattern Analysis and Machine Intelligence", "AAAI", "Nature 521"]


def generated_records(real: list[dict], n: int, seed: int = 0, abstract: bool = True) -> Iterator[dict]:
    """n Kaggle-format records with titles drawn from the word distribution of the real ones."""
    rng = np.random.default_rng(seed)
    words = Counter(w for r in real for w in r["title"].split())
    vocab = list(words)
    probs = np.array([words[w] for w in vocab], dtype=float)
    probs /= probs.sum()
    surnames = sorted({a.split()[-1] for r in real for a in r["authors"].split(", ") if a.strip()})
    abstracts = [" ".join(rng.choice(vocab, size=150, p=probs)) for _ in range(500)] if abstract else [""]
    lengths = rng.integers(4, 17, size=n)
    draws = rng.choice(len(vocab), size=int(lengths.sum()), p=probs)
    pos = 0
    months = [f"{y:02d}{m:02d}" for y in range(15, 25) for m in range(1, 13)]
    for i in range(n):
        k = int(lengths[i])
        title = " ".join(vocab[j] for j in draws[pos:pos + k])
        pos += k
        month = months[i % len(months)]
        # Numbers 60000+ are not used by real ids of these months, so no id collides.
        ident = f"{month}.{60000 + i // len(months):05d}"
        names = [surnames[int(j)] for j in rng.integers(0, len(surnames), size=int(rng.integers(1, 7)))]
        year, mon = id_month(ident)
        yield {
            "id": ident, "submitter": None, "authors": ", ".join(f"A. {s}" for s in names),
            "title": title, "comments": None, "journal-ref": None, "doi": None, "report-no": None,
            "categories": "cs.LG", "license": None, "abstract": abstracts[i % len(abstracts)],
            "versions": [{"version": "v1", "created": f"Mon, 2 {_MON[mon - 1]} {year} 10:00:00 GMT"}],
            "update_date": f"{year}-{mon:02d}-02", "authors_parsed": [[s, "A.", ""] for s in names],
        }


def write_snapshot(path: Path, real: list[dict], total: int, seed: int = 0) -> int:
    with open(path, "w", encoding="utf-8") as fh:
        for r in real:
            fh.write(json.dumps(r) + "\n")
        for r in generated_records(real, max(0, total - len(real)), seed):
            fh.write(json.dumps(r) + "\n")
    return max(total, len(real))


_MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def make_refs(real: list[dict], n: int, seed: int = 1) -> list[tuple[str, str | None, str]]:
    """(raw, gold id or None, kind) reference strings in assorted styles."""
    rng = random.Random(seed)
    usable = [r for r in real if r["authors"] and len(r["title"].split()) >= 3]
    others = [line.split("\t", 1)[-1].strip() for line in
              open(DATA / "references" / "science-parse_gold" / "test__id-titles.txt", encoding="utf-8")]
    others = [t for t in others if len(t.split()) >= 3]
    out = []
    for i in range(n):
        kind = rng.choices(["title", "id", "non-arxiv"], weights=[6, 2, 2])[0]
        if kind == "non-arxiv":
            title, names, year, ident = rng.choice(others), ["J. Smith", "K. Lee"], rng.randint(1995, 2020), None
        else:
            r = rng.choice(usable)
            title, names, ident = r["title"], r["authors"].split(", ")[:4], r["id"]
            year = (id_month(ident) or (2020, 1))[0]
        if kind == "title" and rng.random() < 0.3:  # a typo or a line-break hyphen
            w = title.split()
            k = rng.randrange(len(w))
            w[k] = w[k][:-1] if len(w[k]) > 4 and rng.random() < 0.5 else w[k][:2] + "- " + w[k][2:]
            title = " ".join(w)
        venue = rng.choice(VENUES)
        last = [a.split()[-1] for a in names]
        style = i % 4
        if style == 0:
            raw = f"{', '.join(names)}. {title}. In {venue}, {year}."
        elif style == 1:
            raw = f"{', '.join(f'{s}, {a[0]}.' for s, a in zip(last, names))}: {title}. In: {venue} ({year})"
        elif style == 2:
            raw = f"{' '.join(last[:2])} et al ({year}) {title.lower()}. {venue} 12:34-56"
        else:
            raw = f"{names[0]} et al., “{title},” in {venue}, {year}, pp. 1–10."
        if kind == "id":
            raw += f" arXiv preprint arXiv:{ident}v2."
        out.append((raw, ident, kind))
    return out


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: unlike wall-clock seconds it does not
    grow when other jobs share the cores, so runs on a busy machine can be compared."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _build(snapshot: str, out: str, q: mp.Queue) -> None:
    cpu = cpu_seconds()
    stats = build_index(Path(snapshot), Path(out))
    q.put({"stats": stats.as_dict(), "rss": peak_rss_mb(), "cpu": cpu_seconds() - cpu})


def _resolve(index_path: str, refs: list, q: mp.Queue) -> None:
    start = time.perf_counter()
    index = load_index(Path(index_path))
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mb()
    results = []
    start, cpu = time.perf_counter(), cpu_seconds()
    for raw, _, _ in refs:
        res = resolve_raw(raw, index)
        results.append((res.arxiv_id, res.method))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    q.put({"load_s": load_s, "seconds": seconds, "cpu": cpu, "results": results,
           "rss": peak_rss_mb(), "rss_loaded": rss_loaded, "records": len(index)})


def _scan(index_path: str, refs: list, q: mp.Queue) -> None:
    from rapidfuzz import fuzz, process
    index = load_index(Path(index_path))
    titles = [index.norms[i] for i in range(len(index))]
    start, cpu = time.perf_counter(), cpu_seconds()
    for raw, _, _ in refs:
        process.extractOne(normalize_title(raw), titles, scorer=fuzz.partial_ratio, processor=None)
    q.put({"seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu})


def _run(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    result = q.get()
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_700_000)
    ap.add_argument("--refs", type=int, default=5000)
    ap.add_argument("--scan-sample", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the snapshot and index here")
    args = ap.parse_args()
    wall0, load0 = time.perf_counter(), os.getloadavg()[0]
    tmp = Path(args.workdir or tempfile.mkdtemp(prefix="bench_match_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        real = list(catalog_records().values())
        t0 = time.perf_counter()
        total = write_snapshot(tmp / "snapshot.jsonl", real, args.records)
        gen_s = time.perf_counter() - t0
        snap_mb = (tmp / "snapshot.jsonl").stat().st_size / 2**20
        refs = make_refs(real, args.refs)
        built = _run(_build, str(tmp / "snapshot.jsonl"), str(tmp / "index"))
        res = _run(_resolve, str(tmp / "index"), refs)
        sample = refs[: args.scan_sample]
        scan = _run(_scan, str(tmp / "index"), sample)
    finally:
        if args.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    st = built["stats"]
    per_s = len(refs) / res["seconds"]
    scan_per_s = len(sample) / scan["seconds"]
    print(f"Snapshot: {total:,} records ({len(real):,} real), {snap_mb:,.0f} MiB, written in {gen_s:.0f} s\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| index build ({st['records']:,} records) | {st['seconds']:.0f} s |")
    print(f"| index build, CPU seconds | {built['cpu']:.0f} s |")
    print(f"| index size on disk | {st['bytes_on_disk'] / 2**20:,.0f} MiB |")
    print(f"| build peak RSS | {built['rss']:,.0f} MiB |")
    print(f"| index load | {res['load_s'] * 1000:.0f} ms |")
    print(f"| resolution peak RSS (load + {len(refs):,} refs) | {res['rss']:,.0f} MiB |")
    print(f"| references resolved per second, one core | {per_s:,.0f} |")
    print(f"| references resolved per CPU-second | {len(refs) / res['cpu']:,.0f} |")
    print(f"| rapidfuzz extractOne full scan (partial_ratio), refs/s, {len(sample)} refs | {scan_per_s:.3f} |")
    print(f"| full scan, refs per CPU-second | {len(sample) / scan['cpu']:.3f} |")
    print(f"| speed-up over the full scan | {per_s / scan_per_s:,.0f}x |")
    print(f"\nwall {time.perf_counter() - wall0:,.0f} s; load average {os.getloadavg()[0]:.1f} "
          f"at the end ({load0:.1f} at the start)")
    by_kind: dict[str, Counter] = {}
    for (raw, gold, kind), (got, method) in zip(refs, res["results"]):
        c = by_kind.setdefault(kind, Counter())
        c["refs"] += 1
        c["linked"] += got is not None
        c["correct"] += got is not None and got == gold
        c[method] += 1
    methods = ("arxiv-id", "exact-title", "title-subtitle", "fuzzy-title", "printed-id-unverified", "unresolved")
    print(f"\n| references | n | linked | correct | {' | '.join(methods)} |")
    print(f"|---|---:|---:|---:|{'---:|' * len(methods)}")
    for kind, c in sorted(by_kind.items()):
        print(f"| {kind} | {c['refs']} | {c['linked']} | {c['correct'] if kind != 'non-arxiv' else '-'} | "
              + " | ".join(str(c[m]) for m in methods) + " |")


if __name__ == "__main__":
    main()
