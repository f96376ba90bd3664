"""Service functions: one per use case, each working inside the caller's transaction."""
