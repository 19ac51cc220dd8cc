"""Benchmarks: `placement bench api` and `placement bench match`, each against its own baseline."""
