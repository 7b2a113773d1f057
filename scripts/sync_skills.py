"""Copy skills/ (the one source of truth) to where agents look for them.

Claude Code reads .claude/skills/, Codex and OpenCode read .agents/skills/. A test fails
when the copies drift; run `python scripts/sync_skills.py` after editing skills/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "skills"
TARGETS = (ROOT / ".claude" / "skills", ROOT / ".agents" / "skills")


def main() -> None:
    for target in TARGETS:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(SOURCE, target)
        print(f"synced {SOURCE.relative_to(ROOT)} -> {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
