"""Hybrid search: the BM25 index beside the vectors, kept in step by ingest, fused by RRF.

Expected rankings are computed independently: BM25 with bm25s over the stored chunk texts,
cosine in numpy over the stored vectors, reciprocal-rank fusion by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from helpers import SHORT_TEXTS, items_in, write
from typer.testing import CliRunner

from semsearch.cli import app
from semsearch.client.library import Library
from semsearch.search.planner import HYBRID_RRF_K
from semsearch.search.retrieve import LEXICAL_DEPTH

EXTRA = {
    "zebra.txt": "Zebra stripes confuse biting flies; zebras graze the savanna in herds.",
    "kiln.md": "A kiln fires clay pots at high temperature until the glaze turns to glass.",
    "orbit.txt": "The satellite orbit decays slowly as thin upper atmosphere drags on it.",
}


def corpus(folder: Path) -> Path:
    for name, text in {**SHORT_TEXTS, **EXTRA}.items():
        write(folder / name, text)
    return folder


def bm25_ranking(lib: Library, name: str, query: str) -> list[tuple[str, float]]:
    """Item ids by BM25 over the text space's chunks (best chunk per item), computed anew."""
    rows = [r for rs in items_in(lib, name, "text").values() for r in rs]
    stem = Stemmer.Stemmer("english")
    index = bm25s.BM25()
    index.index(bm25s.tokenize([r.document for r in rows], stopwords="en", stemmer=stem,
                               show_progress=False), show_progress=False)
    scores = index.get_scores(bm25s.tokenize(query, stopwords="en", stemmer=stem,
                                             show_progress=False, return_ids=False)[0])
    best: dict[str, float] = {}
    for row, score in zip(rows, scores, strict=True):
        item = row.metadata["item_id"]
        if score > 0 and score > best.get(item, 0.0):
            best[item] = float(score)
    return sorted(best.items(), key=lambda kv: -kv[1])


def dense_ranking(lib: Library, name: str, vector: np.ndarray) -> list[tuple[str, float]]:
    best = {item: max(float(r.embedding @ vector) for r in rows)
            for item, rows in items_in(lib, name, "text").items()}
    return sorted(best.items(), key=lambda kv: -kv[1])


def rrf_ids(lists: list[list[str]], k: int = HYBRID_RRF_K) -> list[str]:
    scores: dict[str, float] = {}
    for ranked in lists:
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


def test_lexical_and_hybrid_rankings_match_an_independent_computation(lib: Library,
                                                                      tmp_path: Path):
    src = corpus(tmp_path / "docs")
    col = lib.collection("hy", clip_model="none")
    col.ingest([src])
    query = "zebra flies in the savanna and clay glaze"
    expected_lex = bm25_ranking(lib, "hy", query)
    assert len(expected_lex) >= 2

    lexical = col.search(query, type="text", mode="lexical", k=5)
    assert [h.id for h in lexical] == [i for i, _ in expected_lex[:5]]
    for hit, (_, score) in zip(lexical, expected_lex, strict=False):
        assert abs(hit.score - score) < 1e-4  # lexical-only hits show their BM25 score

    k = 4
    qvec = col.text_embedder().embed_batch([query])[0]
    dense = dense_ranking(lib, "hy", qvec)
    # each list as semsearch builds it: dense top (k*4+20), BM25 top LEXICAL_DEPTH
    fused = rrf_ids([[i for i, _ in dense[: k * 4 + 20]],
                     [i for i, _ in expected_lex[:LEXICAL_DEPTH]]])
    hybrid = col.search(query, type="text", mode="hybrid", k=k)
    assert [h.id for h in hybrid] == fused[:k]
    cosine = dict(dense)
    for hit in hybrid:  # every hybrid hit shows its cosine similarity, lexical-only ones too
        assert abs(hit.score - cosine[hit.id]) < 1e-4
        assert hit.text


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
    assert not lib.data.lexical("hy").dirty

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


def test_a_stale_index_is_rebuilt_on_search(lib: Library, tmp_path: Path):
    col = lib.collection("hy", clip_model="none")
    col.ingest([corpus(tmp_path / "docs")])
    lib.data.lexical("hy").mark_dirty()  # what a crash between a store write and the rebuild leaves
    fresh = Library(lib.home).collection("hy")
    assert [h.id for h in fresh.search("zebra", type="text", mode="lexical")] == [
        str(tmp_path / "docs" / "zebra.txt")]
    assert not Library(lib.home).data.lexical("hy").dirty


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
    assert bad.exit_code == 1
    assert bad.stderr == "error: bad mode 'fuzzy'; use dense, lexical or hybrid\n"
