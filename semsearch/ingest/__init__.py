"""Ingest: scan folders (and manifests, shards), read files ahead, chunk, embed, write."""
