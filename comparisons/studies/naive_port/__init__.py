"""What framework defaults cost a naive port: ``port`` (the variants) and ``report`` (runs and page)."""
