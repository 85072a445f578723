"""Clusters and their names.

Clusters are found by HDBSCAN (scikit-learn) on the PCA-reduced item vectors (the high-
dimensional structure, not the 2-D picture). Above :data:`SAMPLE` items HDBSCAN runs on a
random sample and every other item joins the cluster of its nearest sampled item.

A cluster is named by c-TF-IDF (BERTopic's class-based TF-IDF) over the words of its texts,
as the lexical index splits and stems them: a stem's weight in a cluster is its frequency
there (per word of the cluster) times ``log(1 + A / f)``, ``A`` the mean number of words per
cluster and ``f`` the stem's frequency in all clusters: frequent here, rare elsewhere. A
cluster of images only is "N images", with its representative item (the one nearest its mean
vector) to show."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .extras import need
from .items import Items
from .points import NOISE

SAMPLE = 20_000
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
    """The smallest group called a cluster: about half the square root of the items."""
    return max(3, round(math.sqrt(n) / 2))


def find_clusters(reduced: np.ndarray, seed: int = 42) -> Found:
    """HDBSCAN on PCA-reduced vectors; clusters numbered from 0, largest first."""
    n = len(reduced)
    if n < 6:
        return Found(np.full(n, NOISE, dtype=np.int64), 0)
    cluster = need("sklearn.cluster", "scikit-learn")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, SAMPLE, replace=False)) if n > SAMPLE else np.arange(n)
    size = min_size(len(sample))
    model = cluster.HDBSCAN(min_cluster_size=size, min_samples=max(2, size // 2),
                            copy=True)
    got = np.asarray(model.fit_predict(reduced[sample]), dtype=np.int64)
    labels = np.full(n, NOISE, dtype=np.int64)
    labels[sample] = got
    if len(sample) < n:
        rest = np.setdiff1d(np.arange(n), sample)
        neighbors = need("sklearn.neighbors", "scikit-learn")
        index = neighbors.NearestNeighbors(n_neighbors=1).fit(reduced[sample])
        for start in range(0, len(rest), 10_000):
            part = rest[start: start + 10_000]
            nearest = index.kneighbors(reduced[part], return_distance=False)[:, 0]
            labels[part] = got[nearest]
    # renumber: largest first
    sizes = Counter(int(c) for c in labels if c != NOISE)
    order = {c: k for k, (c, _) in enumerate(sorted(sizes.items(), key=lambda t: (-t[1], t[0])))}
    return Found(np.array([order.get(int(c), NOISE) for c in labels], dtype=np.int64),
                 len(order))


def ctfidf_terms(items: Items, labels: np.ndarray, count: int, k: int = TERMS
                 ) -> list[list[str]]:
    """Each cluster's ``k`` most distinctive words by c-TF-IDF (empty: no texts)."""
    per: list[Counter[int]] = [Counter() for _ in range(count)]
    for words, c in zip(items.words, labels, strict=True):
        if c != NOISE and words:
            per[int(c)].update(words)
    everywhere: Counter[int] = Counter()
    for counts in per:
        everywhere.update(counts)
    sizes = [sum(c.values()) for c in per]
    mean = sum(sizes) / max(1, sum(1 for s in sizes if s))
    vocab = items.vocabulary
    out: list[list[str]] = []
    for counts, size in zip(per, sizes, strict=True):
        scored = sorted(
            ((tf / size) * math.log(1.0 + mean / everywhere[t]), vocab.word(t))
            for t, tf in counts.items() if tf > 1 or size < 50
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
