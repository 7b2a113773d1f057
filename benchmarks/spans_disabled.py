"""What a disabled span costs per call, against an empty function call (and enabled, for scale).

Not a test: a script that measures and prints one JSON object. Each form runs
``--calls`` times under ``timeit`` (best of ``--repeats``), the loop's own cost removed
by timing an empty ``pass`` loop too:

* ``empty_call``: ``f()`` for an empty function, the reference;
* ``with_span``: ``with span("parse"): pass`` while disabled;
* ``start_end``: ``end_span(start_span("parse"))`` while disabled;
* ``enabled_with_span``: the same ``with`` block while recording.

Usage: .venv/bin/python benchmarks/spans_disabled.py [--calls 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit

from perfinvest import spans

SETUP = "from perfinvest.spans import span, start_span, end_span\ndef f(): pass"
FORMS = {
    "loop": "pass",
    "empty_call": "f()",
    "with_span": "with span('parse'): pass",
    "start_end": "end_span(start_span('parse'))",
}


def best(stmt: str, calls: int, repeats: int) -> float:
    return min(timeit.repeat(stmt, SETUP, number=calls, repeat=repeats)) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spans.enable(False)
    raw = {name: best(stmt, args.calls, args.repeats) for name, stmt in FORMS.items()}
    spans.enable(True)
    enabled = best(FORMS["with_span"], min(args.calls, 200_000), args.repeats)
    spans.enable(False)
    spans.reset()
    loop = raw.pop("loop")
    ns = {name: max(value - loop, 0.0) * 1e9 for name, value in raw.items()}
    ns["enabled_with_span"] = max(enabled - loop, 0.0) * 1e9
    empty = ns["empty_call"] or 1e-9
    print(
        json.dumps(
            {
                "calls": args.calls,
                "per_call_ns": {name: round(value, 1) for name, value in ns.items()},
                "ratios_vs_empty_call": {
                    name: round(value / empty, 2)
                    for name, value in ns.items()
                    if name != "empty_call"
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
