"""Copy the plugin's skills, agents and command to where agents look for them without it.

``skills/``, ``agents/`` and ``commands/`` are the one source of truth (the Claude Code
plugin reads them there). Claude Code also reads a repository's ``.claude/skills/``,
``.claude/agents/`` and ``.claude/commands/``; Codex and OpenCode read ``.agents/skills/``.
The sources name perfinvest's own files as ``${CLAUDE_PLUGIN_ROOT}/docs/...``, which the
plugin resolves to its folder; the copies name them relative to this repository. A test
fails when the copies drift; run ``python scripts/sync_skills.py`` after editing a source.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ROOT = "${CLAUDE_PLUGIN_ROOT}/"

#: source folder -> the folders its copies go to
COPIES: dict[str, tuple[str, ...]] = {
    "skills": (".claude/skills", ".agents/skills"),
    "agents": (".claude/agents",),
    "commands": (".claude/commands",),
}


def outside_the_plugin(text: str) -> str:
    """A source's text as a copy outside the plugin says it: paths relative to the repo."""
    return text.replace(PLUGIN_ROOT, "")


def expected_copies(root: Path = ROOT) -> dict[Path, str]:
    """Every copy the sources imply, with its text."""
    expected: dict[Path, str] = {}
    for source, targets in COPIES.items():
        for path in sorted((root / source).rglob("*.md")):
            text = outside_the_plugin(path.read_text(encoding="utf-8"))
            for target in targets:
                expected[root / target / path.relative_to(root / source)] = text
    return expected


def main() -> None:
    for targets in COPIES.values():
        for target in targets:
            folder = ROOT / target
            if folder.exists():
                shutil.rmtree(folder)
    for path, text in expected_copies().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for source, targets in COPIES.items():
        print(f"synced {source}/ -> {', '.join(t + '/' for t in targets)}")


if __name__ == "__main__":
    main()
