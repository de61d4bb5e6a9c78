"""The benchmarks: speed and memory figures of this checkout, run from its root as ``python -m bench.NAME``.

Each prints one JSON line and appends it to ``bench/results.jsonl`` (``SLEEP_KD_BENCH_RESULTS``
points it elsewhere). bench/README.md says how to run each and holds the current figures.
"""
