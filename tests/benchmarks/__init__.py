"""Benchmarks of litmus.lem against the LEM simulator: `python -m tests.benchmarks` (make bench).

Not tests: they print figures and write docs/performance.md; nothing here
passes or fails on a timing.
"""
