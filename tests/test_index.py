import datetime as dt
import gzip
import json
import shutil
import zipfile

import pytest

from arxiv_fixture import PAPERS, rec, write_snapshot
from autoscholar.arxiv.index import build_index, build_index_from_records, load_index
from autoscholar.arxiv.normalize import normalize_title
from autoscholar.errors import InputError

BAD_LINES = [
    "{not json",
    json.dumps({"id": "1111.2222"}),  # no title
    json.dumps(["a", "list"]),
    json.dumps(PAPERS[0]),  # the same id again
]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("idx")
    snap = write_snapshot(tmp / "snap.jsonl", BAD_LINES)
    seen = []
    stats = build_index(snap, tmp / "index", progress=seen.append)
    assert stats.records == len(PAPERS)
    assert stats.malformed == 3 and stats.duplicates == 1
    assert stats.bytes_on_disk > 0 and stats.peak_rss_mb > 0
    assert stats.date_sources == {"versions": len(PAPERS) - 1, "update_date": 1}
    assert seen[-1] == len(PAPERS) + len(BAD_LINES)
    return load_index(tmp / "index")


def test_round_trip(index):
    assert len(index) == len(PAPERS)
    r = index.get("1810.04805")
    assert r.arxiv_id == "1810.04805"
    assert r.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert r.surnames == ["devlin", "chang", "lee", "toutanova"]
    assert r.first_version == dt.date(2018, 10, 11)
    assert r.first_version_source == "versions"
    assert r.categories == "cs.CL"
    assert index.get("arXiv:1810.04805v3").arxiv_id == "1810.04805"
    assert index.get("hep-th/9711200").surnames == ["maldacena"]
    assert index.get("9999.99999") is None
    assert index.get("not an id at all, longer than any id in the index") is None


def test_pickles_by_path(index):
    import pickle
    again = pickle.loads(pickle.dumps(index))
    assert len(again) == len(index) and again.get("1706.03762") == index.get("1706.03762")


def test_date_rule(index, tmp_path):
    assert index.get("math/0211159").first_version == dt.date(2002, 11, 11)
    assert index.get("math/0211159").first_version_source == "update_date"
    assert index.get("math/0211159").surnames == ["perelman"]  # from the authors string
    recs = [{"id": "2301.00001", "title": "A paper without dates"},
            {"id": "new-arch/0301001v2", "title": "An archive the id parser does not know", "update_date": "2003-01-05"},
            {"id": "2302.00002", "title": "Bad dates", "versions": [{"created": "garbage"}], "update_date": "?"}]
    build_index_from_records(recs, tmp_path / "i")
    idx = load_index(tmp_path / "i")
    assert idx.get("2301.00001").first_version == dt.date(2023, 1, 1)
    assert idx.get("2301.00001").first_version_source == "id"
    assert idx.get("2302.00002").first_version == dt.date(2023, 2, 1)
    assert idx.get("new-arch/0301001").first_version == dt.date(2003, 1, 5)


def test_exact_title_lookup(index):
    rows = index.rows_with_title(normalize_title("Deep residual learning for image recognition"))
    assert [index.ids[r].decode() for r in rows] == ["1512.03385"]
    assert index.rows_with_title("deep residual learning") == []


def test_blocking_finds_the_title_inside_a_reference(index):
    raw = normalize_title("He, K. et al. Deep residual learning for image recognition. In CVPR, 2016")
    rows = index.candidates(raw)
    assert rows and index.ids[rows[0]].decode() == "1512.03385"
    assert index.candidates("") == []


@pytest.mark.parametrize("suffix", [".gz", ".zip"])
def test_compressed_snapshots(tmp_path, suffix):
    plain = write_snapshot(tmp_path / "snap.jsonl")
    if suffix == ".gz":
        packed = tmp_path / "snap.jsonl.gz"
        with open(plain, "rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        packed = tmp_path / "snap.zip"
        with zipfile.ZipFile(packed, "w") as zf:
            zf.write(plain, "arxiv-metadata-oai-snapshot.json")
    stats = build_index(packed, tmp_path / "index")
    assert stats.records == len(PAPERS)
    assert load_index(tmp_path / "index").get("1706.03762").title == "Attention Is All You Need"


def test_empty_and_non_latin(tmp_path):
    stats = build_index_from_records(["not a dict", None], tmp_path / "empty")
    assert (stats.records, stats.malformed) == (0, 2)
    empty = load_index(tmp_path / "empty")
    assert len(empty) == 0 and empty.get("1706.03762") is None and empty.candidates("a b c") == []
    build_index_from_records([rec("2101.00002", "Ёлки и палки", [("Иван", "Петров")])], tmp_path / "ru")
    idx = load_index(tmp_path / "ru")
    assert [idx.ids[r].decode() for r in idx.rows_with_title(normalize_title("ёлки и палки"))] == ["2101.00002"]


def test_errors(tmp_path):
    with pytest.raises(InputError):
        build_index(tmp_path / "missing.jsonl", tmp_path / "out")
    with pytest.raises(InputError):
        load_index(tmp_path)
    build_index_from_records([rec("2101.00001", "One", [])], tmp_path / "i")
    meta = tmp_path / "i" / "meta.json"
    meta.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(InputError):
        load_index(tmp_path / "i")


def test_real_snapshot_sample(shared_data, tmp_path):
    stats = build_index(shared_data / "arxiv" / "kaggle_arxiv-metadata-oai-snapshot_first200.jsonl", tmp_path / "i")
    assert stats.records == 200 and stats.malformed == 0
    idx = load_index(tmp_path / "i")
    r = idx.get("0704.0001")
    assert r.first_version == dt.date(2007, 4, 2)
    assert r.surnames[:2] == ["balazs", "berger"]


def test_unreadable_snapshots_and_damaged_indexes_are_input_errors(tmp_path):
    bad_gz = tmp_path / "snap.jsonl.gz"
    bad_gz.write_bytes(b"not gzip at all\n")
    bad_zip = tmp_path / "snap.zip"
    bad_zip.write_bytes(b"not a zip either\n")
    plain = write_snapshot(tmp_path / "snap.jsonl")
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(plain.read_bytes())[:-40])
    for snap in (bad_gz, bad_zip, truncated):
        with pytest.raises(InputError, match="cannot read arXiv snapshot"):
            build_index(snap, tmp_path / "out")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InputError, match="cannot write the index"):
        build_index(plain, a_file)
    build_index(plain, tmp_path / "ok")
    (tmp_path / "ok" / "ids.npy").write_bytes(b"garbage")
    with pytest.raises(InputError, match="damaged"):
        load_index(tmp_path / "ok")
    (tmp_path / "ok" / "meta.json").write_text("{broken")
    with pytest.raises(InputError, match="damaged"):
        load_index(tmp_path / "ok")
    (tmp_path / "ok" / "meta.json").write_text("[1, 2]")
    with pytest.raises(InputError):
        load_index(tmp_path / "ok")


def test_subtitle_lookup_by_head_or_tail_and_not_for_common_ones(tmp_path):
    from autoscholar.arxiv.index import MAX_PART_ROWS

    recs = [{"id": f"2101.{i:05d}", "title": f"A Survey: Topic number {i}", "authors": "A. B"}
            for i in range(MAX_PART_ROWS + 1)]
    recs.append({"id": "1810.04805", "title": "BERT: Pre-training of Deep Bidirectional Transformers",
                 "authors": "J. Devlin"})
    build_index_from_records(recs, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    bert = idx.row_of("1810.04805")
    assert idx.rows_with_part(["bert"]) == [bert]
    assert idx.rows_with_part(["pretraining of deep bidirectional transformers"]) == [bert]
    assert idx.rows_with_part(["topic number 3"]) == [idx.row_of("2101.00003")]
    assert idx.rows_with_part(["a survey"]) == []  # shared by more titles than name one
