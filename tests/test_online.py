"""The --online fallback against a local server speaking the arXiv API's Atom protocol."""

import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import factories
from arxiv_fixture import PAPERS
from autoscholar.arxiv.index import build_index_from_records, load_index
from autoscholar.arxiv.online import ArxivAPI, parse_feed, resolve_online, verify_id
from autoscholar.records import BibEntry

# The arXiv API's Atom shape (info.arxiv.org/help/api/user-manual; a real answer's fields as
# mabragor/cl-arxiv-api's README shows them): the feed's self link, query title, id, updated and
# OpenSearch counts; per entry id (abs URL with version), updated, published, a title folded
# over lines, summary, authors, arXiv's own elements, links and categories.
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3D%26id_list%3D2005.14165%26start%3D0%26max_results%3D1" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list=2005.14165&amp;start=0&amp;max_results=1</title>
  <id>http://arxiv.org/api/eqh0wUfSoqUlr9BWqd8knMzmeUA</id>
  <updated>2026-12-03T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:itemsPerPage>
  {entries}
</feed>"""
ENTRY = """<entry>
    <id>http://arxiv.org/abs/{id}v4</id>
    <updated>2020-07-22T19:47:17Z</updated>
    <published>{date}T17:29:03Z</published>
    <title>{title}</title>
    <summary>  Recent work has demonstrated substantial gains on many NLP tasks and
benchmarks by pre-training on a large corpus of text followed by fine-tuning.
</summary>
    {authors}
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">40+32 pages</arxiv:comment>
    <link href="http://arxiv.org/abs/{id}v4" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{id}v4" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>"""
REMOTE = {  # papers the local index does not hold
    # arXiv folds long titles over lines, the next one indented by two spaces
    "2005.14165": ("Language Models are Few-Shot\n  Learners", "2020-05-28", ["Tom B. Brown", "Benjamin Mann"]),
}


def entry_xml(ident):
    title, date, authors = REMOTE[ident]
    names = "\n    ".join(f"<author>\n      <name>{a}</name>\n    </author>" for a in authors)
    return ENTRY.format(id=ident, date=date, title=title, authors=names)


BUSY = "2001.00001"  # asking for this id gets a 503
ERROR_ENTRY = """<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_{id}</id>
  <title>Error</title><summary>incorrect id format for {id}</summary>
  <updated>2025-06-30T00:00:00-04:00</updated><author><name>arXiv api core</name></author></entry>"""


class Handler(BaseHTTPRequestHandler):
    requests: list = []
    agents: list = []
    times: list = []

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        Handler.requests.append(q)
        Handler.times.append(time.monotonic())
        Handler.agents.append(self.headers.get("User-Agent"))
        if q.get("id_list") == [BUSY]:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "id_list" in q and not re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?|[a-z-]+/\d{7}", q["id_list"][0]):
            # What arXiv answers for a malformed id: an "Error" entry, HTTP 200. A well-formed
            # id it does not hold gets an empty feed.
            bad = q["id_list"][0]
            body = FEED.format(total=1, entries=ERROR_ENTRY.format(id=bad)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "id_list" in q:
            ids = [i for i in q["id_list"][0].split(",") if i in REMOTE]
        else:
            words = [w.split(":", 1)[1] for w in q["search_query"][0].split(" AND ")]
            ids = [i for i, (t, _, _) in REMOTE.items() if all(w in t.lower() for w in words)]
        body = FEED.format(total=len(ids), entries="".join(entry_xml(i) for i in ids)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/api/query"
    srv.shutdown()


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "index"
    build_index_from_records(PAPERS, out)
    return load_index(out)


@pytest.fixture(autouse=True)
def own_limiter(monkeypatch):
    from autoscholar import hostlimit, http

    monkeypatch.setattr(hostlimit, "LIMITER", hostlimit.HostLimiter())
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)


def test_fallback_by_id_and_title_with_cache_and_rate_limit(server, index, tmp_path):
    api = ArxivAPI(tmp_path / "cache", base_url=server, min_interval=0.5)
    Handler.requests.clear()
    Handler.times.clear()
    # In the index: the API is not asked.
    res = resolve_online(BibEntry(key="a", raw="Vaswani et al. Attention is all you need. 2017"), index, api)
    assert (res.arxiv_id, res.method) == ("1706.03762", "exact-title")
    assert Handler.requests == []
    res = resolve_online(BibEntry(key="b", raw="T. Brown et al. GPT-3. arXiv:2005.14165, 2020"), index, api)
    assert (res.arxiv_id, res.method) == ("2005.14165", "arxiv-id-online")
    assert res.title == "Language Models are Few-Shot Learners"  # folded title made one line
    raw = "T. B. Brown, B. Mann et al. Language models are few-shot learners. NeurIPS 2020."
    res = resolve_online(BibEntry(key="c", raw=raw), index, api)
    assert (res.arxiv_id, res.method) == ("2005.14165", "exact-title-online")
    assert str(res.first_version) == "2020-05-28"
    assert len(Handler.requests) == 2
    # The second request waited its turn at the host (0.5 s here; arXiv's 3 s by default).
    # (arrival at the server: less the jitter of connecting on a busy machine)
    assert Handler.times[1] - Handler.times[0] >= 0.4
    # Cached: asking again sends nothing.
    resolve_online(BibEntry(key="c", raw=raw), index, api)
    assert len(Handler.requests) == 2


def test_the_api_is_asked_over_https_three_seconds_apart_by_default():
    from autoscholar import hostlimit
    from autoscholar.arxiv import online

    assert online.API.startswith("https://export.arxiv.org/")
    assert hostlimit.HostLimiter().limit_of("export.arxiv.org") == hostlimit.HostLimit(1 / 3, 1)


def test_online_unknown_stays_unresolved(server, index, tmp_path):
    api = ArxivAPI(tmp_path / "cache", base_url=server, min_interval=0.0)
    res = resolve_online(BibEntry(key="d", raw="Q. Nobody. Soil and dirt in gardens. 1999."), index, api)
    assert res.arxiv_id is None


def test_parse_feed_ignores_entities():
    body = b"""<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x "boom">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2005.14165v4</id>
<published>2020-05-28T17:29:03Z</published><title>A &amp; B&x;</title></entry></feed>"""
    recs = parse_feed(body)
    assert recs[0]["id"] == "2005.14165" and "boom" not in recs[0]["title"]


def test_match_stage_uses_the_fallback_only_when_asked(server, tmp_path):
    import datetime as dt

    from autoscholar.config import Settings
    from autoscholar.match import match
    from autoscholar.records import MatchedQuery
    from autoscholar.io import read_jsonl

    ctx = factories.context(
        [BibEntry(key="g", raw="T. B. Brown, B. Mann et al. Language models are few-shot "
                               "learners. NeurIPS 2020.")],
        ["Few-shot \\cite{g}."], "p", published=dt.date(2021, 1, 1))
    query = factories.query(ctx, ["g"], "Which papers study few-shot prompting?",
                            generator="t", prompt_version="t")
    build_index_from_records(PAPERS, tmp_path / "index")
    for online in (False, True):
        run_dir = tmp_path / str(online)
        run_dir.mkdir()
        (run_dir / "generate.jsonl").write_text(query.model_dump_json() + "\n")
        settings = Settings(arxiv_index=tmp_path / "index", arxiv_online=online,
                            arxiv_api_url=server, host_rates=["127.0.0.1=50:1"])
        match(settings, run_dir)
        [mq] = read_jsonl(run_dir / "match.jsonl", MatchedQuery)
        if online:
            assert [(a.arxiv_id, a.method) for a in mq.answers] == \
                [("2005.14165", "exact-title-online")]
            assert list((run_dir / "cache" / "arxiv-api").glob("*.xml"))
        else:
            assert mq.answers == [] and mq.dropped[0].reason == "not-on-arxiv"


def test_an_unreadable_response_is_not_cached(tmp_path):
    from autoscholar.errors import ServiceError

    bodies = [b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><entry><id>http://ar",
              FEED.format(total=1, entries=entry_xml("2005.14165")).encode()]

    class Flaky(BaseHTTPRequestHandler):
        def do_GET(self):
            body = bodies.pop(0)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/api/query"
        with pytest.raises(ServiceError):
            ArxivAPI(tmp_path, base_url=url, min_interval=0).by_id("2005.14165")
        # The rerun asks again instead of failing forever on a cached half answer.
        again = ArxivAPI(tmp_path, base_url=url, min_interval=0).by_id("2005.14165")
        assert [r["id"] for r in again] == ["2005.14165"]
    finally:
        srv.shutdown()


def test_a_failing_api_is_retried_named_and_only_that_reference_fails(server, tmp_path):
    from autoscholar import http
    from autoscholar.errors import ServiceError

    Handler.requests.clear()
    with pytest.raises(ServiceError) as info:
        ArxivAPI(tmp_path, base_url=server, min_interval=0).by_id(BUSY)
    message = str(info.value)
    assert message.startswith("arXiv API request failed: ") and "HTTP 503" in message
    assert "\n" not in message
    assert len(Handler.requests) == http.RETRIES + 1  # the client's retries, each in its turn
    assert Handler.agents[-1] == http.USER_AGENT
    assert list(tmp_path.iterdir()) == []  # nothing cached
    # Through the resolver: that reference is "lookup-failed", nothing is raised.
    api = ArxivAPI(tmp_path / "c", base_url=server, min_interval=0, retries=0)
    assert verify_id(api, BUSY).reason == "lookup-failed"


def test_a_failed_lookup_is_a_dropped_answer_not_the_end_of_the_stage(server, tmp_path):
    import datetime as dt

    from autoscholar.config import Settings
    from autoscholar.io import read_jsonl
    from autoscholar.match import match
    from autoscholar.records import MatchedQuery

    ctx = factories.context(
        [BibEntry(key="g", raw="T. Brown et al. Language models. arXiv:2005.14165, 2020"),
         BibEntry(key="x", raw=f"X. Busy. A paper. arXiv:{BUSY}")],
        ["See \\cite{g,x}."], "p", published=dt.date(2021, 1, 1))
    query = factories.query(ctx, ["g", "x"], "Which papers?", generator="t", prompt_version="t")
    build_index_from_records(PAPERS, tmp_path / "index")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "generate.jsonl").write_text(query.model_dump_json() + "\n")
    stats = match(Settings(arxiv_index=tmp_path / "index", printed_id="verify",
                           arxiv_api_url=server, host_rates=["127.0.0.1=50:1"]), run_dir)
    [mq] = read_jsonl(run_dir / "match.jsonl", MatchedQuery)
    assert [(a.key, a.arxiv_id) for a in mq.answers] == [("g", "2005.14165")]
    assert [(d.key, d.reason) for d in mq.dropped] == [("x", "lookup-failed")]
    assert stats.processed == 1


def test_error_entries_are_not_papers():
    body = FEED.format(total=1, entries=ERROR_ENTRY.format(id="2201.9999")).encode()
    assert parse_feed(body) == []


def test_printed_ids_the_index_lacks_keep_verify_drop(server, tmp_path):
    import datetime as dt

    from autoscholar.config import Settings
    from autoscholar.io import read_jsonl
    from autoscholar.match import match
    from autoscholar.records import CitationContext, MatchedQuery, Query, SourceMeta

    refs = [BibEntry(key="g", raw="T. Brown et al. Language models. arXiv:2005.14165, 2020"),
            BibEntry(key="x", raw="X. Nobody. Unknown things about soil. arXiv:2007.99999")]
    ctx = CitationContext(context_id="p:0", section="Related Work", sentences=["See \\cite{g,x}."],
                          source=SourceMeta(paper_id="p", published=dt.date(2021, 1, 1)), refs=refs)
    query = Query(query_id="p:0:0", context=ctx, question="Which papers?", answer_keys=["g", "x"],
                  generator="t", prompt_version="t")
    build_index_from_records(PAPERS, tmp_path / "index")
    got = {}
    for policy in ("keep", "verify", "drop"):
        run_dir = tmp_path / policy
        run_dir.mkdir()
        (run_dir / "generate.jsonl").write_text(query.model_dump_json() + "\n")
        Handler.requests.clear()
        match(Settings(arxiv_index=tmp_path / "index", printed_id=policy, arxiv_api_url=server,
                       host_rates=["127.0.0.1=50:1"]), run_dir)
        [mq] = read_jsonl(run_dir / "match.jsonl", MatchedQuery)
        got[policy] = ([(a.key, a.arxiv_id, a.method) for a in mq.answers],
                       [(d.key, d.reason) for d in mq.dropped], len(Handler.requests))
    assert got["keep"] == ([("g", "2005.14165", "printed-id-unverified"),
                            ("x", "2007.99999", "printed-id-unverified")], [], 0)
    assert got["verify"] == ([("g", "2005.14165", "arxiv-id-online")], [("x", "not-on-arxiv")], 2)
    assert got["drop"] == ([], [("g", "id-not-in-index"), ("x", "id-not-in-index")], 0)
