"""The offline demo corpus: deterministic PDFs, the mini arXiv index, the gold and its scorer."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
import re
from pathlib import Path

import pymupdf
import pytest
from rapidfuzz import fuzz

from autoscholar.records import AnswerProvenance, Example, PublishedSource
from autoscholar.match import demo_index_path
from autoscholar.sources.demo import gold as demo_data
from autoscholar.sources.demo import score as eval_demo
from autoscholar.sources.demo import write_demo_corpus
from autoscholar.sources.demo.corpus import ARXIV, PAPERS, REFS
from autoscholar.sources.demo.gold import demo_gold_path
from autoscholar.sources.demo.render import render_pdf

REPO = Path(__file__).resolve().parents[1]
KAGGLE_KEYS = ["id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no",
               "categories", "license", "abstract", "versions", "update_date", "authors_parsed"]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    papers = write_demo_corpus(out)
    return {p.paper_id: p for p in papers}


def _text(path: str) -> str:
    with pymupdf.open(path) as doc:
        return "".join(page.get_text() for page in doc)


def _flat(text: str) -> str:
    """Undo line-end hyphens and line breaks the way a reader would, then lowercase."""
    text = re.sub(r"([a-z])-\n([a-z])", r"\1\2", text)
    return re.sub(r"\s+", " ", text).lower()


def _spec(paper_id: str) -> dict:
    return next(s for s in PAPERS if s["paper_id"] == paper_id)


# ------------------------------------------------------------------ the PDFs


def test_corpus_is_byte_identical_across_writes(tmp_path, corpus):
    again = write_demo_corpus(tmp_path / "again")
    assert [p.paper_id for p in again] == sorted(corpus)
    for paper in again:
        assert Path(paper.pdf_path).is_absolute()
        assert Path(paper.pdf_path).read_bytes() == Path(corpus[paper.paper_id].pdf_path).read_bytes()
    # and rewriting in place leaves the same bytes (no fresh document id, no timestamps)
    first = Path(again[0].pdf_path).read_bytes()
    write_demo_corpus(tmp_path / "again")
    assert Path(again[0].pdf_path).read_bytes() == first


def test_paper_records(corpus):
    assert len(corpus) == 4
    for paper in corpus.values():
        spec = _spec(paper.paper_id)
        assert paper.venue == "demo" and paper.source == "demo"
        assert paper.published == dt.date.fromisoformat(spec["published"])
        assert paper.year == paper.published.year
        assert paper.title == spec["title"] and paper.authors
        assert Path(paper.pdf_path).name == f"{paper.paper_id}.pdf"


def test_every_pdf_has_its_related_work_heading_and_cited_titles(corpus):
    for paper in corpus.values():
        spec = _spec(paper.paper_id)
        text = _text(paper.pdf_path)
        related = next(s for s in spec["sections"] if s.get("related"))
        assert related["heading"] in text.splitlines()
        body = "\n".join(x for x in text.splitlines() if x != spec["running_head"] and not x.isdigit())
        flat = _flat(body)
        references = flat[flat.rindex(spec.get("references_heading", "References").lower()):]
        for key in spec["references"]:
            assert REFS[key]["title"].lower() in references, (paper.paper_id, key)


def test_the_corpus_covers_the_layouts_the_parser_must_handle(corpus):
    styles = {(_spec(pid)["style"], _spec(pid)["columns"]) for pid in corpus}
    assert {"numeric", "author-year"} == {s for s, _ in styles}
    assert {1, 2} == {c for _, c in styles}
    text = {pid: _text(p.pdf_path) for pid, p in corpus.items()}
    assert "[5-8]" in text["demo-001"] and "[6, 7]" in text["demo-001"]
    assert "[1-3]" in text["demo-003"] and "[6, 12]" in text["demo-003"]
    assert "Bahdanau et al. (2015)" in text["demo-004"].replace("\n", " ")
    assert "(Kingma and Ba, 2015; He et al., 2016)" in text["demo-004"].replace("\n", " ")
    assert "RELATED WORK" in text["demo-003"].splitlines()
    assert "2 Background and Related Work" in text["demo-002"].splitlines()
    everything = _flat("".join(text.values()))
    assert "https://arxiv.org/abs/2005.14165" in everything
    assert "doi:10.18653/v1/n19-1423" in everything
    assert "arxiv:1503.02531" in everything


def test_each_paper_has_a_hyphenated_line_break_inside_a_word(corpus):
    for paper in corpus.values():
        lines = _text(paper.pdf_path).splitlines()
        broken = [(a, b) for a, b in zip(lines, lines[1:]) if re.search(r"[a-z]-$", a) and b[:1].islower()]
        assert broken, paper.paper_id
        # the joined word exists in the paper's own text, so the break really is a hyphenation
        source = json.dumps(_spec(paper.paper_id)).replace("~", "").lower()
        for a, b in broken:
            word = re.search(r"([a-z]+)-$", a).group(1) + re.match(r"[a-z]+", b).group(0)
            assert word.lower() in source, word


def test_running_heads_and_page_numbers_on_every_page(corpus):
    for paper in corpus.values():
        spec = _spec(paper.paper_id)
        with pymupdf.open(paper.pdf_path) as doc:
            assert len(doc) >= 2
            for number, page in enumerate(doc, start=1):
                lines = page.get_text().splitlines()
                assert spec["running_head"] in lines
                assert str(number) in lines


def test_two_column_pages_read_column_by_column(corpus):
    for pid in ("demo-002", "demo-003"):
        with pymupdf.open(corpus[pid].pdf_path) as doc:
            for number, page in enumerate(doc):
                xs = [line["bbox"][0] for block in page.get_text("dict")["blocks"]
                      for line in block.get("lines", []) if 72 <= line["bbox"][1] <= 722]
                columns = [0 if x < 300 else 1 for x in xs if x < 100 or x > 300]
                # plain get_text order: every left-column line before any right-column line
                assert columns == sorted(columns), pid
                assert number > 0 or 1 in columns  # the first page fills both columns


def test_plain_text_reads_naturally(corpus):
    text = _text(corpus["demo-003"].pdf_path)
    flat = _flat(text)
    for sentence in demo_data.gold()["papers"][2]["sentences"]:
        assert sentence["snippet"].lower() in flat


# ------------------------------------------------------------------ the mini index


def _index() -> list[dict]:
    return [json.loads(line) for line in demo_index_path().read_text(encoding="utf-8").splitlines()]


def test_bundled_files_are_what_the_generator_writes():
    assert demo_index_path().read_text(encoding="utf-8") == "\n".join(demo_data.index_lines()) + "\n"
    assert demo_gold_path().read_text(encoding="utf-8") == demo_data.gold_text()


def test_index_lines_have_the_kaggle_shape():
    rows = _index()
    assert len({r["id"] for r in rows}) == len(rows) >= 60
    for row in rows:
        assert list(row) == KAGGLE_KEYS
        assert re.fullmatch(r"\d{4}\.\d{4,5}", row["id"])
        assert isinstance(row["title"], str) and row["title"].strip()
        assert isinstance(row["authors"], str) and isinstance(row["categories"], str)
        assert row["versions"] and row["versions"][0]["version"] == "v1"
        created = dt.datetime.strptime(row["versions"][0]["created"], "%a, %d %b %Y %H:%M:%S %Z")
        # the weekday printed is the real weekday of that date
        assert created.strftime("%a") == row["versions"][0]["created"][:3]
        assert dt.date.fromisoformat(row["update_date"]) >= created.date()
        # new-style ids encode the month of submission: the first version's month, or the next
        # one for papers that came in after the last announcement of the month
        following = (created.replace(day=1) + dt.timedelta(days=32)).strftime("%y%m")
        assert row["id"][:4] in (created.strftime("%y%m"), following)
        assert all(isinstance(a, list) and len(a) == 3 for a in row["authors_parsed"])
        assert len(row["authors_parsed"]) == len(ARXIV[row["id"]][1])


def test_index_keys_match_the_real_kaggle_sample(shared_data):
    sample = shared_data / "arxiv" / "kaggle_arxiv-metadata-oai-snapshot_first200.jsonl"
    first = json.loads(sample.read_text(encoding="utf-8").splitlines()[0])
    assert list(first) == KAGGLE_KEYS
    assert list(_index()[0]) == list(first)


def test_index_holds_distractors():
    cited = {REFS[k]["arxiv"] for s in PAPERS for k in s["references"]}
    assert len({r["id"] for r in _index()} - cited) >= 30


def test_gold_ids_exist_with_matching_titles_and_dates():
    index = {r["id"]: r for r in _index()}
    gold = json.loads(demo_gold_path().read_text(encoding="utf-8"))
    assert [p["paper_id"] for p in gold["papers"]] == [s["paper_id"] for s in PAPERS]
    reasons = set()
    for paper in gold["papers"]:
        published = dt.date.fromisoformat(paper["published"])
        assert paper["gold_arxiv_ids"]
        for sentence in paper["sentences"]:
            assert len(sentence["snippet"]) >= 20
            for ref in sentence["refs"]:
                if ref["arxiv_id"] is None:
                    continue
                row = index[ref["arxiv_id"]]
                assert fuzz.ratio(ref["title"].lower(), row["title"].lower()) >= 95, ref
            for arxiv_id in sentence["gold_arxiv_ids"]:
                assert arxiv_id in paper["gold_arxiv_ids"]
                created = index[arxiv_id]["versions"][0]["created"]
                first = dt.datetime.strptime(created, "%a, %d %b %Y %H:%M:%S %Z").date()
                assert first <= published
        for drop in paper["dropped"]:
            reasons.add(drop["reason"])
            assert drop["arxiv_id"] not in paper["gold_arxiv_ids"]
    assert reasons == {"not-on-arxiv", "newer-than-source"}


# ------------------------------------------------------------------ the scorer


def _example(paper: dict, n: int, context: str, ids: list[str], index: dict) -> dict:
    return Example(
        qid=f"AutoScholarQuery_train_{n}",
        question=f"Which papers does sentence {n} cite?",
        answer=[index[i]["title"] for i in ids],
        answer_arxiv_id=ids,
        source_meta=PublishedSource(published_time=paper["published"].replace("-", ""),
                                    paper_id=paper["paper_id"], title=paper["title"], venue="demo",
                                    year=int(paper["published"][:4])),
        query_id=f"{paper['paper_id']}:{n}:0",
        section="Related Work",
        context=context,
        answer_provenance=[AnswerProvenance(key=f"ref{k}", raw="...", method="arxiv-id", score=100.0)
                           for k, _ in enumerate(ids)],
        generator="offline-template",
        prompt_version="test",
    ).model_dump(mode="json")


def _write_dataset(run: Path, rows: list[dict]) -> Path:
    (run / "dataset").mkdir(parents=True)
    splits = {"train": rows[::3], "dev": rows[1::3], "test": rows[2::3]}
    for name, part in splits.items():
        (run / "dataset" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    return run


def _perfect_rows() -> list[dict]:
    index = {r["id"]: r for r in _index()}
    gold = json.loads(demo_gold_path().read_text(encoding="utf-8"))
    rows = []
    for paper in gold["papers"]:
        for n, sentence in enumerate(paper["sentences"]):
            if sentence["gold_arxiv_ids"]:
                context = f"Earlier work \\cite{{ref{n}}}. {sentence['text']} \\cite{{ref{n + 1}}}"
                rows.append(_example(paper, n, context, sentence["gold_arxiv_ids"], index))
    return rows


def test_score_of_a_perfect_dataset_is_one(tmp_path, capsys):
    run = _write_dataset(tmp_path / "run", _perfect_rows())
    result = eval_demo.score(run)
    assert result["papers_covered"] == result["papers_total"] == 4
    assert result["paper_pairs"]["precision"] == result["paper_pairs"]["recall"] == 1.0
    assert result["sentence_pairs"]["precision"] == result["sentence_pairs"]["recall"] == 1.0
    assert not result["leaks"] and not result["title_mismatches"] and not result["unknown_ids"]
    assert eval_demo.main([str(run)]) == 0
    assert "| demo-001 |" in capsys.readouterr().out


def test_score_of_a_damaged_dataset_is_lower(tmp_path):
    rows = [r for r in _perfect_rows() if r["source_meta"]["paper_id"] != "demo-004"]
    for row in rows:
        if row["source_meta"]["paper_id"] == "demo-002" and "1606.05250" in row["answer_arxiv_id"]:
            # the leaked preprint slips through, and one answer is swapped for a distractor
            row["answer"] += ["Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks"]
            row["answer_arxiv_id"] += ["2005.11401"]
            row["answer_arxiv_id"][0] = "1905.05950"
    run = _write_dataset(tmp_path / "run", rows)
    result = eval_demo.score(run)
    assert result["missing_papers"] == ["demo-004"]
    assert result["paper_pairs"]["precision"] < 1.0 and result["paper_pairs"]["recall"] < 0.9
    assert result["sentence_pairs"]["precision"] < 1.0
    assert [leak["arxiv_id"] for leak in result["leaks"]] == ["2005.11401"]
    assert [d["arxiv_id"] for d in result["expected_drops_not_dropped"]] == ["2005.11401"]
    assert result["title_mismatches"]  # the swapped id no longer matches its title
    assert eval_demo.main([str(run)]) == 1


def test_context_without_the_sentence_loses_sentence_recall_only(tmp_path):
    rows = _perfect_rows()
    for row in rows:
        row["context"] = "A paragraph the parser garbled beyond recognition."
    result = eval_demo.score(_write_dataset(tmp_path / "run", rows))
    assert result["paper_pairs"]["recall"] == 1.0
    assert result["sentence_pairs"]["recall"] == 0.0
    assert result["sentences_found"] == 0


def test_missing_dataset_is_one_clear_line(tmp_path, capsys):
    assert eval_demo.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_script_runs_the_packaged_scorer(tmp_path):
    assert _load_script("eval_demo").score is eval_demo.score
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "eval_demo.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr == f"eval_demo: no dataset folder in {tmp_path}\n"


def test_render_is_pure():
    assert render_pdf(PAPERS[1]) == render_pdf(PAPERS[1])


# ------------------------------------------------------------------ with the real parser


def test_pymupdf_parser_recovers_the_gold_from_the_demo_pdfs(corpus):
    """Integration: parse stage + contexts on the demo corpus find every gold sentence and cite."""
    from autoscholar.config import DEFAULT_SECTIONS
    from autoscholar.contexts import find_target_sections
    from autoscholar.parse.pymupdf.pdf import parse_pdf

    gold = {p["paper_id"]: p for p in demo_data.gold()["papers"]}
    for pid, paper in corpus.items():
        parsed = parse_pdf(paper, Path(paper.pdf_path))
        sentences = [s for sec in find_target_sections(parsed, DEFAULT_SECTIONS)
                     for para in sec.paragraphs for s in para.sentences]
        titles = {b.key: (b.title or "").lower().rstrip(".") for b in parsed.bibliography}
        for want in gold[pid]["sentences"]:
            hits = [s for s in sentences if want["snippet"].lower() in " ".join(s.text.split()).lower()]
            assert hits, (pid, want["snippet"])
            cited = sorted(titles.get(k, "") for c in hits[0].cites for k in c.keys)
            assert cited == sorted(r["title"].lower() for r in want["refs"]), (pid, want["snippet"])
