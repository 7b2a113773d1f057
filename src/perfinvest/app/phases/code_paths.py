"""Phase 6, code paths: rank files and functions (file:line) on the scenario's path.

Evidence combined: hotspots of the latest profile when profiling has run (phase 7 comes
after this one, so on a first pass there are none), the scenario's words found in names,
paths and bodies, and the git history gathered in phase 5.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import usage_error
from perfinvest.core.models import CodePath, Investigation
from perfinvest.core.phases import Phase


def code_paths(ctx: AppContext, request: PhaseRequest, top: int = 20) -> CommandResult:
    if top < 1:
        raise usage_error("--top must be at least 1")
    steps = CodePathsPhase(ctx, top)
    return run_phase(ctx, "code-paths", Phase.CODE_PATHS, request, steps.work)


@dataclass(frozen=True)
class CodePathsPhase:
    """The code paths phase's work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    top: int

    def work(self, inv: Investigation) -> PhaseWork:
        from perfinvest.adapters.symbols import collect_symbols, source_files
        from perfinvest.core.profiling.codepaths import keywords, rank

        ctx, top = self.ctx, self.top
        setup = inv.setup
        words = keywords(setup.scenario, *setup.success_criteria, setup.metric.name)
        names = source_files(ctx.repo_root, ctx.in_git_repo, exclude=[ctx.paths.state_dir])
        symbols, methods = collect_symbols(ctx.repo_root, names)
        profile = inv.profiling[-1] if inv.profiling else None
        label = f"profile-{profile.number}" if profile and profile.number else "the profile"
        commits = inv.history.commits if inv.history else []
        ranked = rank(
            symbols,
            scenario_words=words,
            hotspots=profile.hotspots if profile else [],
            profile_label=label,
            commits=commits,
            files=names,
            top=top,
        )
        inv.code_paths = ranked
        sources = [
            "hotspots of " + label if profile else "no profile yet (hotspots not used)",
            f"scenario words: {', '.join(words) or 'none'}",
            f"git history: {len(commits)} commit(s)" if inv.history else "no git history",
        ]
        findings = [f"{_place(p)} score {p.score:g}: {p.reason}" for p in ranked[:5]]
        if not ranked:
            findings.append(
                "nothing matched: no hotspots, scenario words or history pointed at code; "
                "profile first (`perfinvest profile`) and re-run code-paths"
            )
        return PhaseWork(
            summary=f"{len(ranked)} code path(s) ranked from {len(names)} file(s) "
            f"({'; '.join(sources)})",
            evidence=[f"{_place(p)} ({p.score:g}) {p.reason}" for p in ranked[:10]],
            findings=findings,
            data={
                "code_paths": [p.model_dump(mode="json") for p in ranked],
                "keywords": words,
                "files_scanned": len(names),
                "symbols": len(symbols),
                "symbol_sources": methods,
                "used_profile": label if profile else None,
            },
        )


def _place(path: CodePath) -> str:
    """``app/core.py:4 hot (def app/core.py:1)``: the hot line first when profiled."""
    defined = f"{path.file}:{path.line or '?'}"
    if path.hot_line:
        return f"{path.hot_line} {path.function or '(file)'} (def {defined})"
    return f"{defined} {path.function or '(file)'}"
