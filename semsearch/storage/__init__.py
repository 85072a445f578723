"""Storage: the catalog (SQLite), the vectors (Chroma), the lexical index, and their locks.

Every read and write of the vector store goes through :class:`~.vectors.Store`, which holds
the right lock; no Chroma handle leaves this package.
"""
