"""The files agents read: frontmatter, required fields, synced skills, and every
``perfinvest`` command line they mention exists in the CLI with those options."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from perfinvest.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
AGENTS = sorted((ROOT / "agents").glob("*.md"))
SKILL_SOURCES = sorted((ROOT / "skills").glob("*/SKILL.md"))
COMMANDS = [ROOT / ".claude" / "commands" / "perf.md"]
DOCS = [ROOT / "docs" / "perf-requirements.md", ROOT / "AGENTS.md", ROOT / "README.md"]
ALL_FILES = [*AGENTS, *SKILL_SOURCES, *COMMANDS, *DOCS]


def frontmatter(path: Path) -> dict[str, Any]:
    text = path.read_text()
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, f"{path.name}: no frontmatter"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict), f"{path.name}: frontmatter is not a mapping"
    return data


@pytest.mark.parametrize("path", AGENTS, ids=lambda p: p.name)
def test_agents_have_claude_code_frontmatter(path: Path) -> None:
    meta = frontmatter(path)
    for field in ("name", "description", "tools", "model"):
        assert meta.get(field), f"{path.name}: missing {field}"
    assert meta["name"] == path.stem
    assert "docs/perf-requirements.md" in path.read_text()


def test_the_methodology_has_its_agents() -> None:
    names = {frontmatter(p)["name"] for p in AGENTS}
    assert names == {
        "perf-orchestrator",
        "perf-theory-gatherer",
        "perf-code-paths",
        "perf-theory-tester",
        "perf-analyzer",
        "perf-investigation-logger",
    }


def test_perf_command_frontmatter() -> None:
    meta = frontmatter(COMMANDS[0])
    assert meta["description"] and meta["argument-hint"]
    assert meta["allowed-tools"] == "Bash(perfinvest:*)"


@pytest.mark.parametrize("path", SKILL_SOURCES, ids=lambda p: p.parent.name)
def test_skills_follow_the_agent_skills_format(path: Path) -> None:
    meta = frontmatter(path)
    assert meta["name"] == path.parent.name
    assert 20 <= len(meta["description"]) <= 1024


def test_skills_are_one_source_kept_in_sync() -> None:
    names = {p.parent.name for p in SKILL_SOURCES}
    assert names == {"perf-investigation", "benchmarker", "profiler", "baseline-manager"}
    for target in (ROOT / ".claude" / "skills", ROOT / ".agents" / "skills"):
        for source in SKILL_SOURCES:
            copy = target / source.parent.name / "SKILL.md"
            assert copy.read_bytes() == source.read_bytes(), (
                f"{copy} differs from {source}: run python scripts/sync_skills.py"
            )
        assert {p.parent.name for p in target.glob("*/SKILL.md")} == names


def test_plugin_manifest_points_at_real_files() -> None:
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", manifest["name"])
    for command in manifest["commands"]:
        assert (ROOT / command).is_file()
    assert (ROOT / manifest["agents"]).is_dir() and (ROOT / manifest["skills"]).is_dir()
    assert manifest["mcpServers"]["perfinvest"]["args"] == ["mcp"]


def command_lines(path: Path) -> list[str]:
    """``perfinvest ...`` as written in inline code spans and fenced code blocks."""
    text = path.read_text()
    fenced = [b.replace("\\\n", " ") for b in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    found = []
    for raw in [*spans, *(line for block in fenced for line in block.splitlines())]:
        chunk = raw.lstrip("$ ").strip()
        index = chunk.find("perfinvest ")
        if index != -1 and not chunk[:index].strip("( "):
            found.append(chunk[index:])
    return found


def resolve(tokens: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = cli
    rest = list(tokens)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        if sub is None:
            break
        command, rest = sub, rest[1:]
    return command, rest


def options_of(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def test_every_mentioned_command_line_exists_with_its_options() -> None:
    checked = 0
    problems = []
    for path in ALL_FILES:
        for line in command_lines(path):
            try:
                tokens = shlex.split(line, comments=True)[1:]
            except ValueError:
                problems.append(f"{path.name}: cannot split {line!r}")
                continue
            if "--" in tokens:
                tokens = tokens[: tokens.index("--")]
            if not tokens or tokens[0] in ("...", "<phase>"):
                continue
            command, rest = resolve(tokens)
            if command is cli:
                problems.append(f"{path.name}: unknown command in {line!r}")
                continue
            known = options_of(command)
            for token in rest:
                option = token.split("=", 1)[0]
                if option.startswith("--") and option not in known:
                    problems.append(f"{path.name}: {command.name} has no {option} ({line!r})")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 40  # the files really mention the commands
