"""Server-rendered pages (no JavaScript needed)."""
