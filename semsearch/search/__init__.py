"""Search: one typed request, one planner: resolve inputs, retrieve, rank."""
