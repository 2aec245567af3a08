"""One contract for every search backend (index/backends): the embedded FAISS + BM25 files, and Qdrant in
qdrant-client's local mode on a folder (real client code, no mocks). A new backend is "pass these tests".

The keyword embedder makes dense scores plain cosines of word counts, so rankings are exact.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qdrant_client")

from index.backends import BackendUnavailableError, Filters, PassageRecord, average_length, records_of, sync
from index.backends.files import FilesBackend
from index.backends.qdrant import QdrantBackend
from index.build import build_index
from index.records import Comment, Document
from qa.backend_retrieve import BackendRetriever, QdrantChoice
from qa.engine import Engine
from qa.errors import IndexMismatchError, InputError
from qa.retrieve import Retriever
from tests.fakes import KeywordEmbedder

VOCABULARY = ["councils", "ccgs", "gp", "manchester", "budget", "dental"]
BACKENDS = ("files", "qdrant")

INT8_COSINE = 5e-3  # how far a cosine moves when the files backend stores its vectors as int8 rows


def _documents() -> list[Document]:
    return [
        Document(id="alpha", title="Alpha", text="Councils commission GP services.", date="2015-03-01",
                 comments=(Comment(1, "Councils councils councils!", author="Vinci Ho"),
                           Comment(2, "The weather was sunny."))),
        Document(id="beta", title="Beta", text="CCGs commission GP services in Manchester.", date="2016-05-02"),
        Document(id="gamma", title="Gamma", text="The budget for Manchester is large.", date="2017-07-03"),
        Document(id="delta", title="Delta", text="Budget budget.", comments=(Comment(1, "What budget?"),)),
    ]


EMBEDDER = KeywordEmbedder(VOCABULARY)
INDEX = build_index(_documents(), EMBEDDER, progress=False)


def _open(name: str, tmp_path, dimension: int = EMBEDDER.dimension, model: str = EMBEDDER.name):
    if name == "files":
        return FilesBackend(dimension)
    return QdrantBackend(path=str(tmp_path / "qdrant"), dimension=dimension, model=model,
                         avgdl=average_length(INDEX))


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    opened = _open(request.param, tmp_path)
    opened.upsert(list(records_of(INDEX)))
    yield opened
    opened.close()


def _vector(text: str) -> np.ndarray:
    return EMBEDDER.encode([text])[0]


def _docs(scored) -> list[str]:
    return [passage.split(":")[0] + (f"#{passage.split(':')[1]}" if ":c" in passage else "") for passage, _ in scored]


def test_it_holds_every_passage_of_the_index(backend):
    assert backend.held() == {p.id: p.doc_id for p in INDEX.passages}


def test_dense_ranks_passages_by_their_best_window_cosine(backend):
    scored = backend.dense(_vector("budget manchester"), 3)
    # query (budget + manchester)/√2; delta = budget×2; delta's comment = budget and "what"; gamma = budget,
    # manchester and 4 other words.
    assert _docs(scored) == ["delta", "delta#c1", "gamma"]
    # FAISS holds the window vectors as int8 rows read back (cosines to ~1e-3), Qdrant as float32.
    assert [s for _, s in scored] == pytest.approx([1 / np.sqrt(2), 1 / 2, 1 / 3], abs=INT8_COSINE)


def test_lexical_scores_are_the_librarys_own_bm25(backend):
    scored = backend.lexical([("budget manchester", 1.0)], 10)
    expected = INDEX.lexical.scores("budget manchester")
    assert _docs(scored) == ["gamma", "delta", "delta#c1", "beta"]
    assert [s for _, s in scored] == pytest.approx([float(expected[INDEX.passage_row[p]]) for p, _ in scored],
                                                   rel=1e-5)


def test_lexical_weights_add_terms_at_a_lower_weight(backend):
    plain = dict(backend.lexical([("manchester", 1.0)], 10))
    weighted = dict(backend.lexical([("manchester", 1.0), ("councils", 0.5)], 10))
    alpha = next(p for p in weighted if p.startswith("alpha:a"))
    assert alpha not in plain and weighted[alpha] == pytest.approx(0.5 * dict(backend.lexical([("councils", 1.0)],
                                                                                          10))[alpha], rel=1e-5)


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
def test_hybrid_puts_the_passage_both_sides_agree_on_first(backend, fusion):
    scored = backend.hybrid(_vector("ccgs gp manchester"), [("ccgs gp manchester", 1.0)], 3, fusion=fusion)
    assert _docs(scored)[0] == "beta"


def test_both_backends_give_the_same_rankings(tmp_path):
    opened = [_open(name, tmp_path) for name in BACKENDS]
    for b in opened:
        b.upsert(list(records_of(INDEX)))
    for query in ("budget manchester", "councils gp", "ccgs commission"):
        vector, words = _vector(query), [(query, 1.0)]
        results = [(b.dense(vector, 3), b.lexical(words, 3), b.hybrid(vector, words, 3, dense_weight=0.3),
                    b.hybrid(vector, words, 3, fusion="dbsf")) for b in opened]
        for files_side, qdrant_side in zip(*results):
            assert [s for _, s in files_side] == pytest.approx([s for _, s in qdrant_side], abs=INT8_COSINE)
            distinct = [p for p, s in files_side if sum(abs(s - t) < 1e-9 for _, t in files_side) == 1]
            assert distinct == [p for p, s in qdrant_side if p in distinct]  # ties may come in either order
    opened[1].close()


@pytest.mark.parametrize("kind", ["article", "comment"])
def test_the_kind_filter_is_honoured_in_every_search(backend, kind):
    vector, words = _vector("councils budget"), [("councils budget", 1.0)]
    for scored in (backend.dense(vector, 10, Filters(kind=kind)), backend.lexical(words, 10, Filters(kind=kind)),
                   backend.hybrid(vector, words, 10, Filters(kind=kind))):
        assert scored and all((":c" in p) == (kind == "comment") for p, _ in scored)


def test_the_document_filter_is_honoured_in_every_search(backend):
    vector, words, only = _vector("budget manchester"), [("budget manchester", 1.0)], Filters(doc_ids=("beta", "alpha"))
    for scored in (backend.dense(vector, 10, only), backend.lexical(words, 10, only),
                   backend.hybrid(vector, words, 10, only)):
        assert scored and {p.split(":")[0] for p, _ in scored} <= {"alpha", "beta"}


def test_the_date_filter_keeps_documents_of_those_days(backend):
    scored = backend.dense(_vector("budget"), 10, Filters(since="2016-01-01", until="2016-12-31"))
    assert {p.split(":")[0] for p, _ in scored} == {"beta"}  # delta has no date: never in a dated search


def test_empty_results_are_empty_lists(backend):
    vector = _vector("budget")
    assert backend.dense(vector, 5, Filters(doc_ids=())) == []
    assert backend.lexical([("zebra crossing", 1.0)], 5) == []
    assert backend.lexical([("the and of", 1.0)], 5) == []  # stopwords only: no term at all
    assert backend.hybrid(vector, [("budget", 1.0)], 5, Filters(doc_ids=())) == []


def test_an_empty_backend_finds_nothing(tmp_path):
    for name in BACKENDS:
        empty = _open(name, tmp_path / name)
        assert empty.held() == {} and empty.dense(_vector("budget"), 5) == []
        assert empty.lexical([("budget", 1.0)], 5) == [] and empty.hybrid(_vector("budget"), [("budget", 1.0)], 5) == []
        empty.close()


def test_add_then_delete_a_document_leaves_no_trace(backend):
    before = (backend.held(), backend.dense(_vector("dental gp"), 10), backend.lexical([("budget", 1.0)], 10))
    extra = build_index([Document(id="epsilon", title="Epsilon", text="Dental GP budget in Manchester.",
                                  comments=(Comment(1, "Dental, dental."),))], EMBEDDER, progress=False)
    backend.upsert(list(records_of(extra)))
    assert _docs(backend.dense(_vector("dental"), 1)) == ["epsilon#c1"]
    assert backend.delete_documents(["epsilon"]) == 2
    after = (backend.held(), backend.dense(_vector("dental gp"), 10), backend.lexical([("budget", 1.0)], 10))
    assert after[0] == before[0]
    for old, new in zip(before[1:], after[1:]):
        assert [s for _, s in old] == pytest.approx([s for _, s in new], rel=1e-5)
    assert backend.delete_documents(["epsilon"]) == 0


def test_upserting_a_passage_again_replaces_it(backend):
    record = next(records_of(INDEX))
    backend.upsert([PassageRecord(record.passage, record.date, record.windows, "dental dental")])
    assert len(backend.held()) == len(INDEX.passages)
    assert _docs(backend.lexical([("dental", 1.0)], 5)) == ["alpha"]


def test_a_vector_of_the_wrong_size_is_refused(backend):
    with pytest.raises(InputError, match=f"{EMBEDDER.dimension} finite numbers"):
        backend.dense(np.ones(3, dtype=np.float32), 5)
    record = next(records_of(INDEX))
    with pytest.raises(InputError, match="dimension"):
        backend.upsert([PassageRecord(record.passage, None, np.ones((1, 3), dtype=np.float32), "x")])


def test_bad_k_and_fusion_are_refused(backend):
    with pytest.raises(InputError, match="k must be"):
        backend.dense(_vector("budget"), 0)
    with pytest.raises(InputError, match="fusion must be one of rrf, dbsf"):
        backend.hybrid(_vector("budget"), [("budget", 1.0)], 3, fusion="convex")


def test_a_qdrant_folder_keeps_the_passages_and_refuses_another_dimension(tmp_path):
    first = _open("qdrant", tmp_path)
    first.upsert(list(records_of(INDEX)))
    first.close()
    again = _open("qdrant", tmp_path)
    assert len(again.held()) == len(INDEX.passages)
    again.close()
    with pytest.raises(IndexMismatchError, match="dimension 3"):
        _open("qdrant", tmp_path, dimension=3)


def test_an_unreachable_qdrant_url_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match=r"cannot reach Qdrant at http://127\.0\.0\.1:9"):
        QdrantBackend(url="http://127.0.0.1:9", dimension=4, model="m", timeout=2)


def test_sync_copies_an_index_then_follows_its_changes(tmp_path):
    backend = _open("qdrant", tmp_path)
    assert sync(backend, INDEX) == (len(INDEX.passages), 0)
    assert sync(backend, INDEX) == (0, 0)
    smaller = build_index([d for d in _documents() if d.id != "alpha"], EMBEDDER, progress=False)
    assert sync(backend, smaller) == (0, 3)
    assert set(backend.held()) == set(smaller.passage_row)
    backend.close()


# -- the Engine on Qdrant ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["lexical", "dense"])
def test_the_engine_searches_the_same_through_qdrant(tmp_path, mode):
    local = Retriever(INDEX, EMBEDDER)
    remote = BackendRetriever(INDEX, EMBEDDER, backend=QdrantChoice(path=str(tmp_path / "q")))
    for query in ("budget manchester", "councils gp"):
        expected = local.search(query, 3, mode=mode)
        found = remote.search(query, 3, mode=mode)
        assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=INT8_COSINE)
        assert found[0].passage_id == expected[0].passage_id and found[0].text == expected[0].text
    assert remote.search("budget", 5, kind="comment", mode=mode)[0].kind == "comment"
    with pytest.raises(InputError, match="unknown document id"):
        remote.search("budget", 5, doc_ids=["nope"])
    remote.backend.close()


def test_engine_add_and_delete_keep_qdrant_in_step(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "dental.jsonl").write_text('{"id": "epsilon", "title": "Epsilon", "text": "Dental GP budget."}\n')
    choice = QdrantChoice(path=str(tmp_path / "q"))
    engine = Engine.from_documents(_documents(), embedder=EMBEDDER, backend=choice)
    engine.add([pages / "dental.jsonl"])
    assert "epsilon" in set(choice.open(INDEX).held().values())
    assert engine.search("dental", 1, mode="dense")[0].doc_id == "epsilon"
    engine.delete(["epsilon"])
    assert "epsilon" not in set(choice.open(INDEX).held().values())
    assert engine.search("budget", 3)[0].doc_id in {"gamma", "delta"}
    choice.close()


def test_engine_load_with_a_qdrant_path_answers_from_qdrant(tmp_path):
    built = Engine.from_documents(_documents(), embedder=EMBEDDER)
    from index.build import save_index

    save_index(built._index, tmp_path / "index")
    engine = Engine.load(tmp_path / "index", embedder=EMBEDDER, qdrant_path=tmp_path / "q")
    assert isinstance(engine._retriever, BackendRetriever)
    hits = engine.search("ccgs gp manchester", 2)
    assert hits[0].doc_id == "beta" and hits[0].rank == 1
    engine.backend.close()


def test_qdrant_choice_needs_one_place():
    with pytest.raises(InputError, match="--qdrant-url"):
        QdrantChoice()
    with pytest.raises(InputError, match="not both"):
        QdrantChoice(url="http://x", path="y")


@pytest.mark.model
def test_the_default_corpus_on_qdrant_answers_with_a_citation(default_engine, real_embedder, tmp_path):
    engine = Engine.load(default_engine.index_dir, embedder=real_embedder, qdrant_path=tmp_path / "q")
    answer = engine.ask("Which bodies would commission GP services in Greater Manchester?")
    assert not answer.abstained and answer.citations
    first = answer.citations[0]
    assert "local authorities working alongside CCGs in Greater Manchester" in first.sentence
    source = engine.document(first.doc_id).source_text(first.comment)
    assert source[first.sentence_start:first.sentence_end] == first.sentence
    hits = engine.search("What did readers say about co-commissioning?", 5, kind="comment")
    assert hits and all(h.kind == "comment" for h in hits)
    engine.backend.close()


def test_qa_qdrant_load_copies_an_index_folder_without_a_model(tmp_path, capsys):
    import json

    from index.build import save_index
    from qa.cli import main

    save_index(INDEX, tmp_path / "index")
    assert main(["qdrant-load", str(tmp_path / "index"), "--qdrant-path", str(tmp_path / "q"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["added"] == summary["passages"] == len(INDEX.passages) and summary["removed"] == 0
    assert main(["qdrant-load", str(tmp_path / "index"), "--qdrant-path", str(tmp_path / "q"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 0  # loading again copies nothing
    assert main(["qdrant-load", str(tmp_path / "index")]) == 2
    assert "--qdrant-url URL or --qdrant-path DIR" in capsys.readouterr().err
    assert main(["qdrant-load", str(tmp_path / "index"), "--qdrant-url", "http://127.0.0.1:9"]) == 3
    assert "cannot reach Qdrant at http://127.0.0.1:9" in capsys.readouterr().err
