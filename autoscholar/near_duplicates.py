"""Near-duplicate query removal: rapidfuzz within a paper, MinHash LSH across the dataset.

Duplicates form groups (A~B and B~C puts A, B and C together); each group keeps its smallest
query_id and maps every other member to it. Questions are compared on their text alone, so two
near-identical questions with different answer sets still count as duplicates: a search
benchmark gains nothing from asking the same thing twice, and the kept query's answers stay
the ones its own context cited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz

from autoscholar.arxiv.normalize import normalize_title

NUM_PERM = 128
SHINGLE = 3  # words per shingle across papers


def _shingles(text: str) -> set[str]:
    words = text.split()
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller id is the root, so the root is the kept query
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def near_duplicate_queries(items: Sequence[tuple[str, str, str]], within_paper_threshold: float = 90.0,
                           across_jaccard: float = 0.8) -> dict[str, str]:
    """{dropped query_id: kept query_id} for (query_id, paper_id, question) items."""
    items = sorted(set(items))
    norm = {qid: normalize_title(question) for qid, _, question in items}
    groups = _Groups()
    by_paper: dict[str, list[str]] = defaultdict(list)
    for qid, paper, _ in items:
        by_paper[paper].append(qid)
    for qids in by_paper.values():
        for i, a in enumerate(qids):
            for b in qids[i + 1:]:
                if fuzz.ratio(norm[a], norm[b]) >= within_paper_threshold:
                    groups.union(a, b)
    shingles = {qid: _shingles(text) for qid, text in norm.items()}
    # LSH only proposes pairs (checked exactly below), so it is tuned for recall: a lower
    # threshold and false negatives weighted 4:1 (P(candidate | J=0.8) ~ 0.998 at 0.8).
    lsh = MinHashLSH(threshold=max(0.05, across_jaccard - 0.15), num_perm=NUM_PERM, weights=(0.2, 0.8))
    for qid, _, _ in items:
        if not shingles[qid]:
            continue
        mh = MinHash(num_perm=NUM_PERM, seed=1)
        mh.update_batch([s.encode() for s in shingles[qid]])
        for other in lsh.query(mh):
            # LSH proposes; the exact Jaccard decides, so the answer does not depend on luck.
            a, b = shingles[qid], shingles[other]
            if len(a & b) / len(a | b) >= across_jaccard:
                groups.union(qid, other)
        lsh.insert(qid, mh)
    out: dict[str, str] = {}
    for qid, _, _ in items:
        root = groups.find(qid)
        if root != qid:
            out[qid] = root
    return out
