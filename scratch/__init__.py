"""scratch: deep-learning building blocks in NumPy only (no framework is ever imported here)."""
