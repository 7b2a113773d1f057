"""Benchmark tools perfinvest drives itself: hyperfine, pytest-benchmark, pyperf, go test.

:func:`~perfinvest.adapters.tools.run.detect` recognises a tool's command line and
:func:`~perfinvest.adapters.tools.run.run_tool` runs it so that the tool's own measured time
fills the duration, reading its raw samples from its export (see ``docs/measuring.md``).
"""
