"""Widgets, by screen region: query bar, chips, results, preview, status line."""
