"""Developer tools (corpus building, demo data, benchmarks); importable so tests can use them."""
