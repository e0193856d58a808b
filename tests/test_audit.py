"""The audit: audit.json's figures, why papers published nothing, the reviewable sample with
its CSV round trip, Wilson intervals and Cohen's kappa against published values, and gates."""

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest
from factories import built_run, copy_run

from autoscholar.audit import collect, load, per_paper, write_report
from autoscholar.audit.figures import PASA_TABLE2, percentile, title_overlap
from autoscholar.audit.gates import GATES, check, parse_gates
from autoscholar.audit.review import (Verdict, agreement, cohen_kappa, parse_review, rates,
                                      review_csv, sample, wilson)
from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.io import read_jsonl
from autoscholar.records import (AnswerProvenance, BibEntry, CitationContext, DroppedAnswer,
                                 Example, MatchedQuery, Paper, PublishedSource, Query,
                                 ResolvedAnswer, SourceMeta)
from autoscholar.stages import build

from test_cli import run


@pytest.fixture(scope="module")
def demo_built(tmp_path_factory):
    return built_run(tmp_path_factory, "audit")


@pytest.fixture
def demo(demo_built, tmp_path):
    return copy_run(demo_built, tmp_path)


def rows_of(run_dir):
    return [e for s in ("train", "dev", "test")
            for e in read_jsonl(run_dir / "dataset" / f"{s}.jsonl", Example)]


# ---------------------------------------------------------------- audit.json


def test_audit_json_holds_the_pages_figures_computed_from_the_dataset(demo):
    write_report(demo)
    saved = json.loads((demo / "audit" / "audit.json").read_text())
    rows = rows_of(demo)
    per_query = [len(e.answer_arxiv_id) for e in rows]
    dist = saved["distributions"]["answers_per_query"]
    assert dist["n"] == len(rows) == sum(saved["examples"].values())
    assert dist["mean"] == pytest.approx(np.mean(per_query), abs=1e-4)
    assert dist["p90"] == pytest.approx(np.percentile(per_query, 90), abs=1e-4)
    assert sum(dist["histogram"].values()) == len(rows)
    assert saved["template_share"] == 1.0  # the demo's offline generator
    steps = {s["stage"]: s for s in saved["funnel_steps"]}
    assert steps["dataset"]["records"] == len(rows)
    assert steps["dataset"]["of_previous"] == round(len(rows) / steps["match"]["records"], 4)
    assert steps["contexts"]["of_previous"] is None  # contexts per paper is not a share
    assert {(v["venue"], v["year"]) for v in saved["by_venue"]} == {
        (e.source_meta.venue, e.source_meta.year) for e in rows}
    assert all(v["pasa"] is None for v in saved["by_venue"])  # no PaSa figures for the demo
    assert saved["date_rule"]["answers_dropped"] == saved["answer_drops"]["newer-than-source"]
    assert "values" not in saved  # raw lists stay out; the summaries are there
    report = (demo / "audit" / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 4 and "PaSa" in report


def test_percentile_is_numpys_and_overlap_finds_titles_in_disguise():
    values = [1, 1, 2, 2, 3, 5, 8, 9, 12]
    for q in (10, 50, 90):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert title_overlap("Which papers study deep residual learning for image recognition?",
                         ["Deep Residual Learning for Image Recognition"]) == 1.0
    assert title_overlap("Which work speeds up attention on GPUs with tiling?",
                         ["Deep Residual Learning for Image Recognition"]) == 0.0


def _matched(paper: str, n: int, answers: list[ResolvedAnswer], dropped: list[DroppedAnswer],
             refs: list[BibEntry], venue="iclr", year=2023) -> MatchedQuery:
    ctx = CitationContext(context_id=f"{paper}:{n}",
                          source=SourceMeta(paper_id=paper, title=paper, venue=venue, year=year),
                          section="Related Work", sentences=["S \\cite{r0}."], refs=refs)
    q = Query(query_id=f"{paper}:{n}:0", context=ctx, question=f"Which papers study {paper} {n}?",
              answer_keys=[r.key for r in refs], generator="gpt-x", prompt_version="v1")
    return MatchedQuery(query=q, answers=answers, dropped=dropped)


def _example(qid: str, venue: str, year: int, n_answers: int, generator="gpt-x") -> Example:
    ids = [f"2101.{i:05d}" for i in range(n_answers)]
    return Example(qid=qid, question=f"Which methods does query {qid} ask about?",
                   answer=[f"Title {i}" for i in ids], answer_arxiv_id=ids,
                   source_meta=PublishedSource(published_time="", paper_id=f"p-{qid}",
                                               title="t", venue=venue, year=year),
                   query_id=qid, section="Related Work", context="=HYPERLINK(\"x\") text",
                   answer_provenance=[AnswerProvenance(key=f"r{i}", raw=f"-ref {i}",
                                                       method="fuzzy-title", score=91.5)
                                      for i in range(n_answers)],
                   generator=generator, prompt_version="v1")


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.model_dump_json() + "\n" for r in records))


def test_near_misses_unindexed_ids_leaks_by_date_source_and_pasa_rows(tmp_path):
    refs = [BibEntry(key="r0", raw="Printed with arXiv:2301.99999", arxiv_id="2301.99999"),
            BibEntry(key="r1", raw="A near title"), BibEntry(key="r2", raw="Too new")]
    ok = ResolvedAnswer(key="r3", raw="fine", arxiv_id="2001.00001", title="Fine",
                        method="exact-title", score=100)
    _write(tmp_path / "match.jsonl", [
        _matched("iclr-a", 0, [ok], [
            DroppedAnswer(key="r0", raw=refs[0].raw, reason="not-on-arxiv"),
            DroppedAnswer(key="r1", raw=refs[1].raw, reason="below-threshold", score=87.5),
            DroppedAnswer(key="r2", raw=refs[2].raw, reason="newer-than-source",
                          arxiv_id="2302.00001")], refs),
    ])
    _write(tmp_path / "listing.jsonl", [
        Paper(paper_id="iclr-a", venue="iclr", year=2023, published=dt.date(2023, 2, 1),
              source="openreview"),
        Paper(paper_id="iclr-b", venue="iclr", year=2023, source="openreview")])
    _write(tmp_path / "dataset" / "train.jsonl",
           [_example(f"q{i}", "iclr", 2023, 1 + i % 3) for i in range(10)])
    numbers = collect(tmp_path)
    assert numbers["near_misses"]["count"] == 1
    assert numbers["near_misses"]["closest"][0]["score"] == 87.5
    assert numbers["printed_unindexed"]["ids"] == ["2301.99999"]
    assert numbers["date_rule"]["dropped_by_date_source"] == {"publication date (openreview)": 1}
    assert numbers["date_rule"]["papers_by_date_source"] == {
        "publication date (openreview)": 1, "year only (Dec 31) (openreview)": 1}
    (venue,) = numbers["by_venue"]
    assert venue["pasa"] == PASA_TABLE2[("iclr", 2023)] and venue["pasa"]["mean"] == 2.46
    assert venue["mean"] == pytest.approx(np.mean([1 + i % 3 for i in range(10)]), abs=1e-4)
    assert numbers["template_share"] == 0.0


def test_every_paper_that_published_nothing_says_why(tmp_path):
    refs = [BibEntry(key="r0", raw="Unknown paper")]
    papers = [Paper(paper_id=p, venue="demo", year=2021) for p in
              ("broken", "norw", "badllm", "unmatched", "leaky", "good")]
    _write(tmp_path / "listing.jsonl", papers)
    _write(tmp_path / "fetch.jsonl", papers)
    (tmp_path / "fetch.rejects.jsonl").write_text("")
    (tmp_path / "parse.rejects.jsonl").write_text(json.dumps(
        {"stage": "parse", "key": "broken", "reason": "corrupt", "detail": "xref"}) + "\n")
    (tmp_path / "parse.jsonl").write_text("".join(
        json.dumps({"paper": {"paper_id": p.paper_id}}) + "\n" for p in papers[1:]))
    (tmp_path / "contexts.rejects.jsonl").write_text(json.dumps(
        {"stage": "contexts", "key": "norw", "reason": "no-related-work-section"}) + "\n")
    _write(tmp_path / "contexts.jsonl", [
        CitationContext(context_id=f"{p}:0", source=SourceMeta(paper_id=p), section="RW",
                        sentences=["x"], refs=refs)
        for p in ("badllm", "unmatched", "leaky", "good")])
    (tmp_path / "generate.rejects.jsonl").write_text(json.dumps(
        {"stage": "generate", "key": "badllm:0", "reason": "malformed-llm-output"}) + "\n")
    ok = ResolvedAnswer(key="r0", raw="x", arxiv_id="2001.00001", title="T",
                        method="exact-title", score=100)
    matched = [
        _matched("unmatched", 0, [], [DroppedAnswer(key="r0", raw="x", reason="not-on-arxiv")],
                 refs),
        _matched("leaky", 0, [], [DroppedAnswer(key="r0", raw="x", reason="newer-than-source")],
                 refs),
        _matched("good", 0, [ok], [], refs)]
    _write(tmp_path / "generate.jsonl", [m.query for m in matched])
    _write(tmp_path / "match.jsonl", matched)
    _write(tmp_path / "dataset" / "train.jsonl", [_example("g", "demo", 2021, 1).model_copy(
        update={"source_meta": PublishedSource(published_time="", paper_id="good", title="t",
                                               venue="demo", year=2021)})])
    why = {p["paper_id"]: p["why_nothing"] for p in per_paper(tmp_path)}
    assert why["good"] == ""
    assert why["broken"] == "parse: corrupt (xref)"
    assert why["norw"] == "contexts: no-related-work-section"
    assert why["badllm"] == "generate: every context rejected (malformed-llm-output x1)"
    assert why["unmatched"] == "match: every answer unmatched or dropped: not-on-arxiv x1"
    assert "leaks" in why["leaky"]
    write_report(tmp_path)
    saved = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert len(saved["why_nothing"]) == 5 and "broken: parse: corrupt (xref)" in saved["why_nothing"]
    (tmp_path / "match.jsonl").unlink()  # a run stopped before match: no answers to blame
    why = {p["paper_id"]: p["why_nothing"] for p in per_paper(tmp_path)}
    assert why["unmatched"] == why["leaky"] == "match: not run yet"


# ---------------------------------------------------------------- sample and rubric


def test_sample_is_seeded_and_stratified_by_venue():
    rows = ([_example(f"a{i:03d}", "iclr", 2023, 2) for i in range(60)]
            + [_example(f"b{i:03d}", "acl", 2024, 2) for i in range(30)]
            + [_example(f"c{i:03d}", "cvpr", 2024, 2) for i in range(10)])
    picked = sample(rows, 20, seed=3)
    assert [e.qid for e in picked] == [e.qid for e in sample(list(reversed(rows)), 20, seed=3)]
    assert [e.qid for e in picked] != [e.qid for e in sample(rows, 20, seed=4)]
    by_venue = {v: sum(e.source_meta.venue == v for e in picked) for v in ("iclr", "acl", "cvpr")}
    assert by_venue == {"iclr": 12, "acl": 6, "cvpr": 2}
    assert len({e.qid for e in sample(rows, 3, seed=0)}) == 3
    assert {e.source_meta.venue for e in sample(rows, 3, seed=0)} == {"iclr", "acl", "cvpr"}
    assert len(sample(rows, 500)) == 100


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score interval).
    for (k, n), (low, high) in {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605),
                                (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}.items():
        got = wilson(k, n)
        assert got[0] == pytest.approx(low, abs=5e-5) and got[1] == pytest.approx(high, abs=5e-5)
    assert wilson(0, 0) is None


def test_cohen_kappa_matches_known_values():
    # Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4.
    pairs = ([(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10
             + [(False, False)] * 15)
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    # Its second example: 45/15/25/15 -> 0.1304; and perfect agreement -> 1.
    pairs = ([(True, True)] * 45 + [(True, False)] * 15 + [(False, True)] * 25
             + [(False, False)] * 15)
    assert cohen_kappa(pairs) == pytest.approx(0.1304, abs=1e-4)
    assert cohen_kappa([(True, True), (False, False)]) == 1.0
    assert cohen_kappa([(True, True)] * 3) is None  # one label throughout: undefined


def test_review_csv_round_trip_and_bad_rows(tmp_path):
    items = [_example("q1", "iclr", 2023, 2), _example("q2", "acl", 2024, 1)]
    text = review_csv(items)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["query", "answer", "answer", "query", "answer"]
    assert rows[0]["context"].startswith("'=HYPERLINK")  # no formula runs in a spreadsheet
    assert rows[1]["printed_reference"] == "'-ref 0" and rows[1]["match_evidence"]
    marks = {"q1": ("y", "y", "y"), "q2": ("yes", "n", "y")}
    for r in rows:
        if r["kind"] == "query":
            r["complete"], r["faithful"], r["unambiguous"] = marks[r["qid"]]
        else:
            r["qualified"] = "n" if r["arxiv_id"].endswith("1") else "y"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    known = {e.qid: e for e in items}
    verdicts = parse_review(buf.getvalue(), "r.csv", known)
    got = rates(verdicts)
    assert got["query_qualified"]["k"] == 1 and got["query_qualified"]["n"] == 2
    assert got["answer_qualified"] == {**got["answer_qualified"], "k": 1, "n": 2}
    assert got["answer_qualified_all"]["n"] == 3
    bad = buf.getvalue().replace(",yes,n,y,", ",maybe,n,y,")
    with pytest.raises(InputError, match=r"r.csv line 5, column complete: 'maybe'"):
        parse_review(bad, "r.csv", known)
    with pytest.raises(InputError, match="not in this run's dataset"):
        parse_review(buf.getvalue().replace("q2", "q9"), "r.csv", known)
    with pytest.raises(InputError, match="no column"):
        parse_review("a,b\n1,2\n", "r.csv", known)


def test_agreement_uses_only_items_both_rated():
    human = [Verdict(qid="a", complete=True, faithful=True, unambiguous=True,
                     answers={"x": True}),
             Verdict(qid="b", complete=True, faithful=False, unambiguous=True,
                     answers={"y": True})]
    judge = [Verdict(qid="a", complete=True, faithful=True, unambiguous=True,
                     answers={"x": True}),
             Verdict(qid="b", complete=True, faithful=True, unambiguous=True,
                     answers={"y": False}),
             Verdict(qid="c", complete=False, faithful=True, unambiguous=True)]
    got = agreement(human, judge)
    assert got["query_qualified"]["items"] == 2 and got["query_qualified"]["agree"] == 0.5
    assert got["query_qualified"]["kappa"] == pytest.approx(0.0)
    assert got["answer_qualified"]["items"] == 2


# ---------------------------------------------------------------- gates and the command


def test_gates_name_each_figure_that_falls_short():
    numbers = {"distributions": {"answers_per_query": {"mean": 1.2}}, "template_share": 0.5,
               "trivial_share": 0.0, "examples": {"train": 10},
               "review": {"human": {"rates": {"query_qualified": {"n": 10, "rate": 0.8}}}}}
    failed = check(numbers, parse_gates(["query_qualified=0.9,max_template_share=0.1",
                                         "min_answers_per_query=1.0", "min_kappa=0.5"]))
    assert failed == [
        "query_qualified: share of reviewed queries qualified is 0.8, below 0.9",
        "max_template_share: share of template-generated questions is 0.5, above 0.1",
        "min_kappa: Cohen's kappa, judge vs person, query qualified is not measured in this run "
        "(needed: at least 0.5)"]
    with pytest.raises(InputError) as err:
        parse_gates(["query_qualifed=0.9"])
    assert str(err.value).count("\n") == 0 and all(k in str(err.value) for k in GATES)
    with pytest.raises(InputError, match="KEY=NUMBER"):
        parse_gates(["query_qualified=high"])


def test_audit_command_exports_imports_and_gates(demo, tmp_path):
    sheet = tmp_path / "review.csv"
    run("audit", demo, "--export-review", sheet, "--sample", "8", "--seed", "1")
    rows = list(csv.DictReader(sheet.open()))
    qids = {r["qid"] for r in rows}
    assert len(qids) == 8 and qids <= {e.qid for e in rows_of(demo)}
    for r in rows:
        if r["kind"] == "query":
            r.update(complete="y", faithful="y", unambiguous="n" if len(qids) and r["qid"] ==
                     sorted(qids)[0] else "y")
        else:
            r["qualified"] = "y"
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    proc = run("audit", demo, "--import-review", sheet, "--fail-under", "query_qualified=0.9",
               check=False)
    assert proc.returncode == 1
    assert "fail-under: query_qualified: share of reviewed queries qualified is 0.875, below 0.9" \
        in proc.stderr
    saved = json.loads((demo / "audit" / "audit.json").read_text())
    assert saved["review"]["human"]["rates"]["query_qualified"]["k"] == 7
    lo, hi = wilson(7, 8)
    assert saved["review"]["human"]["rates"]["query_qualified"]["low"] == round(lo, 4)
    assert "87.5% [" in (demo / "audit" / "report.html").read_text()
    run("audit", demo, "--fail-under", "query_qualified=0.85", "--fail-under",
        "max_template_share=1")
    proc = run("audit", demo, "--fail-under", "nonsense=1", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "unknown --fail-under key 'nonsense': one of query_qualified" in proc.stderr
    bad = sheet.read_text().replace(",y,y,", ",y,perhaps,", 1)
    sheet.write_text(bad)
    proc = run("audit", demo, "--import-review", sheet, check=False)
    assert proc.returncode == 1 and "column faithful: 'perhaps'" in proc.stderr
    assert json.loads((demo / "audit" / "review.human.json").read_text())["verdicts"]  # kept


def test_real_pdfs_every_silent_paper_has_a_reason_and_unindexed_ids_are_absent(
        shared_data, tmp_path):
    from autoscholar.arxiv.index import load_index

    run_dir = tmp_path / "real"
    build(Settings(venue="local", pdf_dir=shared_data / "pdf", limit=8, run_dir=run_dir,
                   arxiv_index=shared_data / "arxiv" / "catalog_213k.jsonl"))
    saved = json.loads((run_dir / "audit" / "audit.json").read_text())
    papers = per_paper(run_dir)
    silent = [p for p in papers if not p["published"]]
    assert len(saved["why_nothing"]) == len(silent)
    assert all(p["why_nothing"].split(":")[0] in ("fetch", "parse", "contexts", "generate",
                                                  "match", "publish") for p in silent)
    indexed = {i.decode() for i in load_index(run_dir / "arxiv-index").ids}
    assert saved["printed_unindexed"]["count"] and saved["near_misses"]["count"]
    for u in saved["printed_unindexed"]["examples"]:
        assert u["arxiv_id"] not in indexed
        assert u["arxiv_id"] in u["reference"].replace(" ", "")
    for n in saved["near_misses"]["closest"]:
        assert 60 <= n["score"] < 90  # resolve.py's floor for a near miss, and the threshold
    assert sum(saved["distributions"]["queries_per_paper"]["histogram"].values()) == \
        sum(saved["papers"].values())


def test_review_paths_that_cannot_be_used_are_one_error(demo, tmp_path):
    from autoscholar.audit.run import run_audit

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write the review"):
        run_audit(Settings(venue="demo", run_dir=demo), demo, export_review=blocker / "r.csv")
    with pytest.raises(InputError, match="cannot read the review"):
        run_audit(Settings(venue="demo", run_dir=demo), demo, import_review=tmp_path / "no.csv")
