"""Points for the capacity model from a ``--from`` file, probes or load results (pure).

A ``--from`` file is CSV or JSON (docs/capacity.md):

* CSV with a header naming ``concurrency`` and ``throughput`` (other columns ignored; lines
  starting with ``#`` are comments);
* JSON: a list of ``{"concurrency": N, "throughput": X}`` objects, or an object holding that
  list under ``"points"``.

Each point keeps where it came from (``file:line``, the probe, the load run) so a refusal
can name the point it is about.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from perfinvest.core.capacity.fit import Point
from perfinvest.core.errors import usage_error

#: Metric names read as throughput when no ``--metric`` is given, in this order.
THROUGHPUT_NAMES = (
    "throughput_rps",
    "rps",
    "throughput",
    "requests_per_s",
    "ops_per_s",
    "qps",
    "tps",
)


def _number(raw: Any, what: str, where: str) -> float:
    if isinstance(raw, bool):
        raise usage_error(f"{where}: {what} must be a number, not {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise usage_error(f"{where}: {what} must be a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise usage_error(f"{where}: {what} must be finite, not {raw!r}")
    return value


def parse_points(text: str, name: str) -> list[Point]:
    """The points of a ``--from`` file; a usage error naming the line or item otherwise."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return _json_points(text, name)
    return _csv_points(text, name)


def _json_points(text: str, name: str) -> list[Point]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(f"{name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    items = raw.get("points") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise usage_error(
            f'{name}: expected a list of {{"concurrency": N, "throughput": X}} objects '
            'or an object with such a list under "points"'
        )
    points = []
    for index, item in enumerate(items):
        where = f"{name}: point {index + 1}"
        if not isinstance(item, dict) or not {"concurrency", "throughput"} <= item.keys():
            raise usage_error(f'{where}: needs "concurrency" and "throughput"')
        points.append(
            Point(
                _number(item["concurrency"], "concurrency", where),
                _number(item["throughput"], "throughput", where),
                f"{name}#{index + 1}",
            )
        )
    return points


def _csv_points(text: str, name: str) -> list[Point]:
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise usage_error(f"{name}: empty: expected a header `concurrency,throughput` and rows")
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)))
    rows = list(reader)
    header = [cell.strip().lower() for cell in rows[0]]
    if "concurrency" not in header or "throughput" not in header:
        raise usage_error(
            f"{name}:{lines[0][0]}: the header must name the columns `concurrency` and "
            f"`throughput` (found: {', '.join(header) or 'nothing'})"
        )
    at_n, at_x = header.index("concurrency"), header.index("throughput")
    points = []
    for (number, _), row in zip(lines[1:], rows[1:], strict=True):
        where = f"{name}:{number}"
        if len(row) <= max(at_n, at_x):
            raise usage_error(f"{where}: {len(row)} column(s), the header has {len(header)}")
        points.append(
            Point(
                _number(row[at_n].strip(), "concurrency", where),
                _number(row[at_x].strip(), "throughput", where),
                where,
            )
        )
    return points


def throughput_key(
    available: Iterable[str], asked: str | None, primary: tuple[str, str] | None
) -> str | None:
    """Which probe metric is the throughput: ``--metric``, a higher-is-better primary metric,
    else the first of :data:`THROUGHPUT_NAMES` (a bare name also matches ``scenario:name``
    when only one scenario reports it). None when none is there."""
    keys = sorted(set(available))

    def match(name: str) -> str | None:
        if name in keys:
            return name
        bare = [k for k in keys if k.rpartition(":")[2] == name]
        return bare[0] if len(bare) == 1 else None

    if asked is not None:
        return match(asked)
    if primary is not None and primary[1] == "higher" and match(primary[0]):
        return match(primary[0])
    for name in THROUGHPUT_NAMES:
        found = match(name)
        if found is not None:
            return found
    return None


def probe_points(
    probes: Sequence[tuple[float, bool | None, Mapping[str, float]]], key: str
) -> tuple[list[Point], int]:
    """(points, probes skipped): valid probes (a verdict, pass or fail) reporting ``key``.

    A failing probe is a measurement too (past the breaking point throughput is what the
    USL's retrograde part is about); an invalid probe (no verdict) is not.
    """
    points = []
    skipped = 0
    for number, (value, passed, metrics) in enumerate(probes, 1):
        if passed is None or key not in metrics:
            skipped += 1
            continue
        points.append(Point(value, metrics[key], f"probe {number}"))
    return points, skipped


def load_point(result: Mapping[str, Any], where: str) -> tuple[Point | None, str]:
    """One load run's point (its users, the sustained rps of the steady window) or why not."""
    shape = result.get("shape")
    if shape == "burst":
        return None, f"{where}: a burst paces an arrival rate (an open model), not users"
    users = result.get("peak_users")
    routes = result.get("routes")
    rps = routes.get("all", {}).get("rps") if isinstance(routes, dict) else None
    if not isinstance(users, int | float) or isinstance(users, bool) or users <= 0:
        return None, f"{where}: no user count"
    if not isinstance(rps, int | float) or isinstance(rps, bool) or not math.isfinite(rps):
        return None, f"{where}: no sustained rps"
    return Point(float(users), float(rps), where), ""


def ramp_points(latency_csv: str, where: str) -> list[Point]:
    """A ramp's seconds as points: the users running that second and the requests completed
    in it (the aggregate ``all`` rows of ``latency.csv``). The first and the last second are
    partial and left out; seconds at one user count are repeats (they measure the noise)."""
    rows = list(csv.DictReader(io.StringIO(latency_csv)))
    seconds = sorted({int(r["second"]) for r in rows if r.get("second", "").lstrip("-").isdigit()})
    if len(seconds) < 3:
        return []
    inner = set(seconds[1:-1])
    points = []
    for row in rows:
        users, second = row.get("users", ""), row.get("second", "")
        if row.get("route") != "all" or not users or not second.lstrip("-").isdigit():
            continue
        if int(second) in inner and int(users) > 0:
            points.append(Point(float(users), float(row["requests"]), f"{where}@{second}s"))
    return points
