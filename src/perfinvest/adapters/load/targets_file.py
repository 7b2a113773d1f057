"""Reading ``perf/targets.yaml`` with line numbers in every error, and writing a commented one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfinvest.core.errors import usage_error
from perfinvest.core.load.targets import Targets

TEMPLATE = """\
# perfinvest load targets (docs/load-testing.md). Check it: perfinvest load check
# yaml-language-server: $schema=https://perfinvest.dev/schemas/targets.schema.json
version: 1
# Where the load goes. Only loopback (127.0.0.0/8, ::1, localhost) unless a host is in
# allow_hosts, and even then every run needs --approve "reason" (recorded in the log).
base_url: http://127.0.0.1:8000
# base_urls: [http://127.0.0.1:8000, http://127.0.0.1:8001]   # several: spread round-robin
allow_hosts: []
# SLOs every route must meet unless it overrides the same metric.
# Metrics: p50_ms p90_ms p95_ms p99_ms p999_ms mean_ms max_ms error_rate rps requests
slo_defaults:
  - p95_ms <= 150
  - error_rate < 0.01
routes:
  - name: health
    path: /health
    health: true            # part of the health gate of `perfinvest load suite`
  # - name: chaos           # fault: true marks a route that injects errors into the
  #   path: /admin/fault    #   target (a chaos endpoint): every run needs --approve
  #   fault: true
  - name: home
    method: GET
    path: /
    weight: 3               # chosen 3 times as often as a weight-1 route
    expect_status: 200      # any other status is a failed request
  # - name: checkout
  #   method: POST
  #   path: /checkout
  #   headers: {Content-Type: application/json}
  #   body: {"sku": 42}     # or: data: data.jsonl (one JSON object per line:
  #                         #   {"path": ..., "body": ..., "headers": ...}, cycled)
  #   slo: ["p95_ms <= 500"]   # an exception to the default
# Profiles: override the built-in shapes or name your own (shape: one of smoke, baseline,
# ramp, spike, soak, burst). Durations follow the 60 s minimum unless short runs are allowed.
profiles:
  smoke: {users: 2, duration_s: 60}
  baseline: {users: 10, duration_s: 60}
  ramp: {from_users: 1, users: 50, duration_s: 120}
  spike: {users: 5, peak_users: 50, duration_s: 90}
  soak: {users: 10, duration_s: 1800}   # pid: 1234 (or container: NAME) checks RSS growth
  burst: {rate_rps: 20, duration_s: 60}
"""


def _node_line(root: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (its deepest match)."""
    import yaml

    node, line = root, getattr(root, "start_mark", None)
    best = line.line + 1 if line is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    best = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and (0 <= part < len(node.value))
        ):
            child = node.value[part]
            best = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return best


def parse_targets(text: str, source: str = "targets.yaml") -> Targets:
    """Validate the text of a targets file; every mistake is one usage error with its line."""
    import yaml
    from pydantic import ValidationError

    from perfinvest.store.safe_yaml import compose_yaml

    try:
        data, root = compose_yaml(text, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise usage_error(f"{source}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise usage_error(f"{source}: expected a mapping at the top (version, base_url, routes)")
    _check_unique_names(root, data, source)
    try:
        return Targets.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error.get("loc", ()) if not str(p).startswith("function-"))
            loc = tuple(p for p in loc if p not in ("str", "dict[str,any]", "list[any]"))
            line = _node_line(root, loc)
            field = ".".join(str(p) for p in loc) or "document"
            msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{source}:{line or '?'}: {field}: {msg}")
        raise usage_error("; ".join(dict.fromkeys(problems))) from None


def _check_unique_names(root: Any, data: dict[str, Any], source: str) -> None:
    """A repeated route name is reported at its second occurrence's line."""
    routes = data.get("routes")
    if not isinstance(routes, list):
        return
    seen: dict[str, int] = {}
    for index, route in enumerate(routes):
        name = route.get("name") if isinstance(route, dict) else None
        if not isinstance(name, str):
            continue
        line = _node_line(root, ("routes", index, "name"))
        if name in seen:
            raise usage_error(
                f"{source}:{line or '?'}: routes.{index}.name: route name {name!r} is used "
                f"already (line {seen[name]}); route names must be unique"
            )
        seen[name] = line or 0


def load_targets(path: Path) -> Targets:
    if not path.is_file():
        raise usage_error(
            f"targets file {path} not found; create one with `perfinvest load init` "
            "or pass --targets FILE"
        )
    from perfinvest.store.safe_yaml import read_yaml_text

    return parse_targets(read_yaml_text(path), str(path))
