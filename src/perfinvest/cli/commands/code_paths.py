"""Phase 6: code paths."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    phase_command,
)


@cli.command(name="code-paths")
@click.option("--top", type=int, default=20, show_default=True, help="Entries to keep.")
@phase_command("code-paths")
def code_paths(
    top: int,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Phase 6: rank the files and functions (file:line) on the scenario's path.

    Combines the latest profile's hotspots (when `perfinvest profile` has run; re-run
    code-paths after profiling to use them), the scenario's words found in function names,
    paths and bodies, and the git history gathered by `hypotheses gather`. Python symbols
    come from `ast`, other languages from Universal Ctags when installed, else a regex.
    Every entry says why it was ranked; a function the profile measured also names its
    hottest line (hot_line, e.g. app/core.py:4), shown first.
    """
    from perfinvest.app.phases import code_paths as phases

    result = phases.code_paths(phase.context(), phase.request(), top)
    if not result.ok:
        return result
    rows = [_row(p) for p in result.data.get("code_paths", [])]
    return result, "\n".join(rows) or None


def _row(path: dict[str, Any]) -> str:
    """The hot line first when the profile measured one, then the definition."""
    defined = f"{path['file']}:{path['line'] or '?'}"
    place = path.get("hot_line") or defined
    function = path["function"] or "(file)"
    if path.get("hot_line") and path["line"]:
        function += f" (def {defined})"
    return f"{path['score']:>7g}  {place}  {function}\n         why: {path['reason']}"
