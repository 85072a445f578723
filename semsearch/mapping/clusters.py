"""Clusters and their names.

Clusters are found the way BERTopic finds them: the PCA-reduced item vectors (the high-
dimensional structure, not the 2-D picture) are laid out by UMAP in :data:`DIMS` dimensions,
and HDBSCAN (scikit-learn) finds the dense groups there, with a smallest cluster in
proportion to the collection. Above :data:`SAMPLE` items this runs on a random sample; the
other items, and the points HDBSCAN left out, join a cluster by a vote of their nearest
sampled items.

A cluster is named by c-TF-IDF (BERTopic's class-based TF-IDF) over the words of its texts,
as the lexical index splits and stems them: a stem's weight in a cluster is its frequency
there (per word of the cluster) times ``log(1 + A / f)``, ``A`` the mean number of words per
cluster and ``f`` the stem's frequency in all clusters: frequent here, rare elsewhere. A
cluster of images only is "N images", with its representative item (the one nearest its mean
vector) to show."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .extras import need
from .items import Items
from .layout import epochs, knn_graph, neighbours, umap_module
from .points import NOISE

#: HDBSCAN runs on at most this many items; the others join by a kNN vote
SAMPLE = 4000
#: the dimensions HDBSCAN clusters in (a UMAP of the vectors)
DIMS = 5
VOTE_K = 10
VOTE_SHARE = 0.5
TERMS = 3
#: words too common in any prose to name anything (the index keeps them; labels do not)
COMMON = frozenset((
    "about", "after", "all", "also", "am", "any", "been", "before", "being", "both", "can",
    "could", "did", "do", "does", "each", "from", "had", "has", "have", "he", "her", "here",
    "him", "his", "how", "i", "its", "just", "may", "me", "more", "most", "my", "new", "now",
    "one", "only", "other", "our", "out", "over", "she", "so", "some", "than", "them", "two",
    "up", "us", "very", "we", "were", "what", "when", "where", "which", "while", "who", "why",
    "would", "you", "your", "use", "used", "using", "these", "those", "through", "between",
    "within", "without", "among", "however", "thus", "there", "whether", "until", "need",
    "needs", "once", "every", "make", "makes", "made", "just", "like", "well", "many", "much",
))


@dataclass
class Found:
    labels: np.ndarray  # a cluster number per item; NOISE for none
    count: int


def min_size(n: int) -> int:
    """The smallest group called a cluster among ``n`` clustered points: about n / 60 (8 of
    500 abstracts, 50 at most), down to 2 to 5 for a handful of items."""
    return max(min(5, max(2, n // 8)), min(n // 60, 50))


def cluster_space(reduced: np.ndarray, seed: int = 42) -> np.ndarray:
    """Where HDBSCAN looks: a UMAP of the PCA-reduced vectors to :data:`DIMS` dimensions
    (BERTopic's recipe: density is meaningful there, not in 50 or 384 dimensions), with exact
    neighbours; the PCA coordinates themselves for a few items."""
    n = len(reduced)
    if n <= 2 * DIMS + 10:
        return reduced
    umap = umap_module()
    k = min(15, n - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(n_components=DIMS, n_neighbors=k, min_dist=0.0, random_state=seed,
                          n_epochs=epochs(n), low_memory=True, init="spectral",
                          precomputed_knn=knn_graph(reduced, k))
        return np.asarray(model.fit_transform(reduced), dtype=np.float32)


def find_clusters(reduced: np.ndarray, vectors: np.ndarray | None = None, seed: int = 42
                  ) -> Found:
    """HDBSCAN on :func:`cluster_space` of (a sample of at most :data:`SAMPLE`) items, then
    every other item, and each point HDBSCAN left out, joins the cluster most of its
    :data:`VOTE_K` nearest sampled items (cosine on ``vectors``, the unit item vectors) are
    in, when that cluster has at least :data:`VOTE_SHARE` of the votes. Clusters are
    numbered from 0, largest first."""
    n = len(reduced)
    if n < 6:
        return Found(np.full(n, NOISE, dtype=np.int64), 0)
    if vectors is None:
        vectors = reduced / np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
    cluster = need("sklearn.cluster", "scikit-learn")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, SAMPLE, replace=False)) if n > SAMPLE else np.arange(n)
    size = min_size(len(sample))
    model = cluster.HDBSCAN(min_cluster_size=size, min_samples=max(2, size // 4), copy=True)
    got = np.asarray(model.fit_predict(cluster_space(reduced[sample], seed)), dtype=np.int64)
    labels = np.full(n, NOISE, dtype=np.int64)
    labels[sample] = got
    if got.max(initial=NOISE) >= 0:
        _vote(labels, np.asarray(vectors, dtype=np.float32), sample, got)
    # renumber: largest first
    sizes = Counter(int(c) for c in labels if c != NOISE)
    order = {c: k for k, (c, _) in enumerate(sorted(sizes.items(), key=lambda t: (-t[1], t[0])))}
    return Found(np.array([order.get(int(c), NOISE) for c in labels], dtype=np.int64),
                 len(order))


def _vote(labels: np.ndarray, vectors: np.ndarray, sample: np.ndarray, got: np.ndarray
          ) -> None:
    """The kNN vote (in place) for every item in no cluster: the clusters of its nearest
    sampled items (a sampled item does not vote for itself). Close enough: its mean
    similarity to them is within the clustered items' usual range (at least the 5th
    percentile less its distance to the median); an item farther from everything, which
    UMAP may have pulled into a cluster, is in none."""
    k = min(VOTE_K, len(sample) - 1)
    if k < 1:
        return
    closeness = _nearest(vectors, sample, sample, k)[1].mean(axis=1)
    low, mid = np.quantile(closeness[got != NOISE], [0.05, 0.5])
    bar = float(low - (mid - low))
    labels[sample[closeness < bar]] = NOISE
    todo = np.setdiff1d(np.flatnonzero(labels == NOISE), sample[closeness < bar])
    for start in range(0, len(todo), 8192):
        part = todo[start: start + 8192]
        idx, sims = _nearest(vectors, part, sample, k)
        for row, close, point in zip(got[idx], sims.mean(axis=1), part, strict=True):
            counted = Counter(int(c) for c in row if c != NOISE)
            if counted and close >= bar:
                best, many = counted.most_common(1)[0]
                if many >= VOTE_SHARE * k:
                    labels[point] = best


def _nearest(vectors: np.ndarray, points: np.ndarray, sample: np.ndarray, k: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest sampled items of each point other than itself: (positions in
    ``sample``, cosine similarities)."""
    idx, sims = neighbours(vectors[points], vectors[sample], k + 1)
    own = sample[idx] == points[:, None]
    # drop the point itself where it is in the sample, else the (k+1)-th neighbour
    keep = np.where(own.any(axis=1)[:, None], ~own, np.arange(k + 1)[None, :] < k)
    return idx[keep].reshape(len(points), k), sims[keep].reshape(len(points), k)


def ctfidf_terms(items: Items, labels: np.ndarray, count: int, k: int = TERMS
                 ) -> list[list[str]]:
    """Each cluster's ``k`` most distinctive words by c-TF-IDF (empty: no texts), the
    weight times ``log(1 + clusters / clusters with the word)``: a word most clusters use
    ("cells" in biomedical abstracts) names none of them."""
    per: list[Counter[int]] = [Counter() for _ in range(count)]
    docs: list[Counter[int]] = [Counter() for _ in range(count)]  # items with the word
    members = Counter(int(c) for c in labels if c != NOISE)
    for words, c in zip(items.words, labels, strict=True):
        if c != NOISE and words:
            per[int(c)].update(words)
            docs[int(c)].update(set(words))
    everywhere: Counter[int] = Counter()
    spread: Counter[int] = Counter()  # in how many clusters a word is
    for counts in per:
        everywhere.update(counts)
        spread.update(counts.keys())
    sizes = [sum(c.values()) for c in per]
    mean = sum(sizes) / max(1, sum(1 for s in sizes if s))
    vocab = items.vocabulary
    out: list[list[str]] = []
    for c, (counts, size) in enumerate(zip(per, sizes, strict=True)):
        # a word of one item only (a gene id, an acronym) does not name a group
        least = min(2, members[c])
        scored = sorted(
            ((tf / size) * math.log(1.0 + mean / everywhere[t])
             * math.log(1.0 + count / spread[t]), vocab.word(t))
            for t, tf in counts.items() if docs[c][t] >= least and (tf > 1 or size < 50)
        )
        names: list[str] = []
        for _, word in reversed(scored):
            if word not in COMMON and not word.isdigit() and len(word) > 2:
                names.append(word)
            if len(names) == k:
                break
        out.append(names)
    return out


def representative(vectors: np.ndarray, members: np.ndarray) -> int:
    """The member nearest the members' mean vector (an index into ``vectors``)."""
    centre = vectors[members].mean(axis=0)
    return int(members[int(np.argmax(vectors[members] @ centre))])


def cluster_label(terms: Sequence[str], modality: Sequence[str]) -> str:
    """``"cells, tumor, cancer"``; ``"12 images"`` for a cluster with no text to name it;
    texts and images together: ``"beach, sea (+3 images)"``."""
    images = sum(1 for m in modality if m == "image")
    if not terms:
        return f"{images} {'image' if images == 1 else 'images'}" if images else \
            f"{len(modality)} items"
    head = ", ".join(terms)
    return head + (f" (+{images} {'image' if images == 1 else 'images'})" if images else "")
