"""Hybrid search: the BM25 index (SQLite FTS5 in the catalog), kept in step by ingest, fused
with the dense cosine by a convex combination.

Expected rankings are computed independently: BM25 by its formula in Python over the stored
chunk texts (Porter stems, FTS5's k1 and b), cosine in numpy over the stored vectors, the
fusion rule by hand.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import Stemmer
from helpers import SHORT_TEXTS, items_in, write
from typer.testing import CliRunner

from semsearch.cli import app
from semsearch.client.library import Library
from semsearch.search.rank import LEXICAL_BONUS, LEXICAL_THRESHOLD, lexical_bonus
from semsearch.storage.words import STOPWORDS

EXTRA = {
    "zebra.txt": "Zebra stripes confuse biting flies; zebras graze the savanna in herds.",
    "kiln.md": "A kiln fires clay pots at high temperature until the glaze turns to glass.",
    "orbit.txt": "The satellite orbit decays slowly as thin upper atmosphere drags on it.",
}
STEM = Stemmer.Stemmer("porter")


def corpus(folder: Path) -> Path:
    for name, text in {**SHORT_TEXTS, **EXTRA}.items():
        write(folder / name, text)
    return folder


def tokens(text: str) -> list[str]:
    return STEM.stemWords(re.findall(r"[^\W_]+", text.lower()))


def bm25_ranking(lib: Library, name: str, query: str) -> tuple[list[tuple[str, float]], float]:
    """Item ids by BM25 over the text space's chunks (best chunk per item), computed anew
    (Okapi BM25 as FTS5 scores it: k1 1.2, b 0.75, idf log((N-n+.5)/(n+.5)) floored at 1e-6),
    and the query's ceiling: the sum of its terms' idf, a term no chunk holds counting with
    df = 0."""
    rows = [r for rs in items_in(lib, name, "text").values() for r in rs]
    docs = [tokens(r.document) for r in rows]
    n_docs, avgdl = len(docs), sum(map(len, docs)) / len(docs)
    terms = list(dict.fromkeys(tokens(" ".join(w for w in re.findall(r"[^\W_]+", query.lower())
                                                if w not in STOPWORDS))))
    idf, ceiling = {}, 0.0
    for t in terms:
        df = sum(t in d for d in docs)
        ceiling += max(math.log((n_docs - df + 0.5) / (df + 0.5)), 1e-6)
        if df:
            idf[t] = max(math.log((n_docs - df + 0.5) / (df + 0.5)), 1e-6)
    best: dict[str, float] = {}
    for row, d in zip(rows, docs, strict=True):
        score = sum(idf[t] * d.count(t) * 2.2 / (d.count(t) + 1.2 * (0.25 + 0.75 * len(d) / avgdl))
                    for t in idf if t in d)
        item = row.metadata["item_id"]
        if score > 0 and score > best.get(item, 0.0):
            best[item] = score
    return sorted(best.items(), key=lambda kv: -kv[1]), ceiling


def dense_ranking(lib: Library, name: str, vector: np.ndarray) -> list[tuple[str, float]]:
    best = {item: max(float(r.embedding @ vector) for r in rows)
            for item, rows in items_in(lib, name, "text").items()}
    return sorted(best.items(), key=lambda kv: -kv[1])


def test_lexical_and_hybrid_rankings_match_an_independent_computation(lib: Library,
                                                                      tmp_path: Path):
    src = corpus(tmp_path / "docs")
    col = lib.collection("hy", clip_model="none")
    col.ingest([src])
    query = "zebra stripes, biting flies and pots of clay"
    expected_lex, ceiling = bm25_ranking(lib, "hy", query)
    assert len(expected_lex) >= 2

    lexical = col.search(query, type="text", mode="lexical", k=5)
    assert [h.id for h in lexical] == [i for i, _ in expected_lex[:5]]
    for hit, (_, score) in zip(lexical, expected_lex, strict=False):
        assert abs(hit.score - score) < 1e-4  # a lexical listing shows its BM25 score
        assert hit.parts["bm25_share"] == pytest.approx(score / ceiling, abs=1e-4)

    qvec = col.text_embedder().embed_batch([query])[0]
    cosine = dict(dense_ranking(lib, "hy", qvec))
    bm25 = dict(expected_lex)

    def bonus(share: float) -> float:  # the rule, written out
        return LEXICAL_BONUS * max(0.0, share - LEXICAL_THRESHOLD) / (1 - LEXICAL_THRESHOLD)

    fused = {i: c + bonus(min(1.0, bm25.get(i, 0.0) / ceiling)) for i, c in cosine.items()}
    assert any(bonus(min(1.0, v / ceiling)) > 0 for v in bm25.values())  # the rule is exercised
    hybrid = col.search(query, type="text", mode="hybrid", k=4)
    assert [h.id for h in hybrid] == sorted(fused, key=lambda i: -fused[i])[:4]
    for hit in hybrid:  # the score is the fused value; its parts travel with it
        assert hit.score == pytest.approx(fused[hit.id], abs=1e-4)
        assert hit.parts["dense"] == pytest.approx(cosine[hit.id], abs=1e-4)
        assert hit.text


def test_the_lexical_bonus_starts_at_the_threshold_and_tops_at_a_whole_match() -> None:
    assert lexical_bonus(0.0) == 0.0
    assert lexical_bonus(LEXICAL_THRESHOLD) == 0.0
    assert lexical_bonus(1.0) == pytest.approx(LEXICAL_BONUS)
    mid = (LEXICAL_THRESHOLD + 1) / 2
    assert lexical_bonus(mid) == pytest.approx(LEXICAL_BONUS / 2)


def test_lexical_index_follows_add_change_move_remove(lib: Library, tmp_path: Path):
    src = corpus(tmp_path / "docs")
    col = lib.collection("hy", clip_model="none")

    def indexed() -> set[str]:
        index = lib.data.lexical("hy")
        return {cid for cid, _ in index.search("zebra kiln orbit dogs pasta", 1000)}

    def chunk_ids() -> set[str]:
        return {f"{i}#{n}" for i, rows in items_in(lib, "hy", "text").items()
                for n in range(len(rows))}

    col.ingest([src])
    assert lib.data.lexical("hy").size() == len(chunk_ids())

    write(src / "added.txt", "A quokka smiles on Rottnest island.")
    col.ingest([src])
    assert [h.id for h in col.search("quokka", type="text", mode="lexical")] == [
        str(src / "added.txt")]

    write(src / "zebra.txt", "Now it is only about tea and biscuits.")
    col.ingest([src])
    assert str(src / "zebra.txt") not in {h.id for h in col.search("zebra stripes",
                                                                  type="text", mode="lexical")}

    shutil.move(src / "kiln.md", src / "pottery.md")
    assert col.ingest([src]).moved == 1
    assert [h.id for h in col.search("kiln glaze", type="text", mode="lexical")] == [
        str(src / "pottery.md")]

    (src / "orbit.txt").unlink()
    assert col.ingest([src]).removed == 1
    assert col.search("satellite orbit", type="text", mode="lexical") == []
    assert lib.data.lexical("hy").size() == len(chunk_ids())
    assert indexed() <= chunk_ids()


def test_a_catalog_without_the_index_fills_it_from_the_store(lib: Library, tmp_path: Path):
    """A catalog from before the index moved into it (or rows another client wrote): the
    index is filled from the store on the first search."""
    col = lib.collection("hy", clip_model="none")
    col.ingest([corpus(tmp_path / "docs")])
    size = lib.data.lexical("hy").size()
    with lib.catalog.transaction() as db:
        lib.data.lexical("hy").drop(db)
    fresh = Library(lib.home).collection("hy")
    assert [h.id for h in fresh.search("zebra", type="text", mode="lexical")] == [
        str(tmp_path / "docs" / "zebra.txt")]
    assert Library(lib.home).data.lexical("hy").size() == size


def test_filters_apply_to_lexical_and_hybrid(lib: Library, tmp_path: Path):
    col = lib.collection("hy", clip_model="none")
    col.ingest([corpus(tmp_path / "docs")])
    where = [f"path={tmp_path / 'docs' / 'pasta.txt'}"]
    for mode in ("lexical", "hybrid"):
        hits = col.search("zebra pasta garlic", type="text", mode=mode, where=where)
        assert [h.id for h in hits] == [str(tmp_path / "docs" / "pasta.txt")]


def test_cli_mode_option(lib: Library, tmp_path: Path):
    col = lib.collection("hy", clip_model="none")
    col.ingest([corpus(tmp_path / "docs")])
    runner = CliRunner()
    result = runner.invoke(app, ["search", "zebra", "-c", "hy", "--home", str(lib.home),
                                 "--type", "text", "--mode", "lexical", "-k", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert '"modality": "text"' in result.stdout and "zebra.txt" in result.stdout
    bad = runner.invoke(app, ["search", "zebra", "-c", "hy", "--home", str(lib.home),
                              "--mode", "fuzzy"])
    assert bad.exit_code == 2  # a usage error
    assert bad.stderr == ("error: invalid value for '--mode': 'fuzzy' is not one of dense, "
                          "lexical, hybrid\n")


@pytest.mark.parametrize("index", ["vector index", "store"])
def test_documents_are_read_for_the_final_hits_only(lib: Library, tmp_path: Path,
                                                    monkeypatch, index: str):
    """No over-fetching: the nearest chunks come back as ids, distances and metadata; the
    documents read are those of the hits returned (dense and hybrid alike), from the lexical
    index when the vector index answers (the store is not read at all), else from the
    store."""
    from semsearch.storage.lexical import LexicalIndex
    from semsearch.storage.vectors import Store

    if index == "store":
        monkeypatch.setenv("SEMSEARCH_VECTOR_INDEX", "0")
    col = lib.collection("hy", clip_model="none")
    col.ingest([corpus(tmp_path / "docs")])
    read: list[str] = []
    texts: list[str] = []
    asked: list[bool] = []
    fetch, query, stored = Store.fetch, Store.query, LexicalIndex.stored

    def counting_fetch(self, collection, space, ids, where=None, embeddings=False):
        read.extend(ids)
        return fetch(self, collection, space, ids, where, embeddings)

    def counting_query(self, *args, documents=True, **kwargs):
        asked.append(documents)
        return query(self, *args, documents=documents, **kwargs)

    def counting_stored(self, cids):
        texts.extend(cids)
        return stored(self, cids)

    monkeypatch.setattr(Store, "fetch", counting_fetch)
    monkeypatch.setattr(Store, "query", counting_query)
    monkeypatch.setattr(LexicalIndex, "stored", counting_stored)
    for mode in ("dense", "hybrid"):
        read.clear()
        texts.clear()
        hits = col.search("zebra stripes on the savanna", type="text", mode=mode, k=2)
        assert len(hits) == 2 and all(h.text for h in hits)
        final = sorted(f"{h.id}#{h.metadata['chunk']}" for h in hits)
        if index == "store":
            assert sorted(read) == final and texts == [], mode
        else:  # the lexical index held every final hit's text
            assert sorted(texts) == final and read == [], mode
    if index == "store":
        assert asked and not any(asked)
    else:
        assert asked == []
