"""bench/runner: the parts of bench/run.py (see run.py and bench/README.md)."""
