"""The files agents read: frontmatter, required fields, synced skills, and every
``perfinvest`` command line they mention exists in the CLI with those options."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from perfinvest.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
AGENTS = sorted((ROOT / "agents").glob("*.md"))
SKILL_SOURCES = sorted((ROOT / "skills").glob("*/SKILL.md"))
COMMANDS = [ROOT / "commands" / "perf.md"]
PLUGIN_ROOT_REF = re.compile(r"\$\{CLAUDE_PLUGIN_ROOT\}/([^`\s)]+)")
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
    # resolved by the plugin to its own folder, not to the user's repository
    assert "`${CLAUDE_PLUGIN_ROOT}/docs/perf-requirements.md`" in path.read_text()


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


def sync_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "sync_skills", ROOT / "scripts" / "sync_skills.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_skills_agents_and_command_are_one_source_kept_in_sync() -> None:
    """Available without the plugin: .claude/{skills,agents,commands}, .agents/skills."""
    names = {p.parent.name for p in SKILL_SOURCES}
    assert names == {"perf-investigation", "benchmarker", "profiler", "baseline-manager"}
    sync = sync_module()
    expected = sync.expected_copies(ROOT)
    assert ROOT / ".claude" / "agents" / "perf-orchestrator.md" in expected
    assert ROOT / ".claude" / "commands" / "perf.md" in expected
    for copy, text in expected.items():
        assert copy.is_file() and copy.read_text() == text, (
            f"{copy} differs from its source: run python scripts/sync_skills.py"
        )
        assert "${CLAUDE_PLUGIN_ROOT}" not in text  # outside the plugin, repo-relative
    for targets in sync.COPIES.values():
        for target in targets:
            present = set((ROOT / target).rglob("*.md"))
            assert present <= set(expected), f"stray copies in {target}: {present - set(expected)}"


def test_plugin_root_references_name_files_the_plugin_ships() -> None:
    found = 0
    for path in [*AGENTS, *SKILL_SOURCES, *COMMANDS]:
        for relative in PLUGIN_ROOT_REF.findall(path.read_text()):
            assert (ROOT / relative).is_file(), f"{path.name}: no {relative} in the plugin"
            found += 1
    assert found >= len(AGENTS) + 2


#: plugin.json fields documented by Claude Code's plugins reference (manifest schema).
PLUGIN_FIELDS = {
    "name",
    "version",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "outputStyles",
    "lspServers",
}
KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
SEMVER = re.compile(r"\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?")


def manifest(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / ".claude-plugin" / name).read_text())
    return data


def component_paths(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_plugin_manifest_follows_the_documented_schema() -> None:
    plugin = manifest("plugin.json")
    assert set(plugin) <= PLUGIN_FIELDS, set(plugin) - PLUGIN_FIELDS
    assert KEBAB.fullmatch(plugin["name"]) and SEMVER.fullmatch(plugin["version"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert plugin["version"] == project["version"] and plugin["license"] == project["license"]
    assert isinstance(plugin["author"], dict) and plugin["author"]["name"]
    for url in ("homepage", "repository"):
        assert re.fullmatch(r"https://\S+", plugin[url]), url
    assert all(isinstance(k, str) for k in plugin["keywords"])
    # agents/, skills/ and commands/ are the default folders: found without being listed;
    # a listed agent or command must be a ./-relative .md file (the validator's rule)
    for field in ("agents", "commands"):
        for path in component_paths(plugin.get(field, [])):
            assert path.startswith("./") and path.endswith(".md"), (field, path)
            assert (ROOT / path).is_file(), (field, path)
    assert (ROOT / "agents").is_dir() and (ROOT / "skills").is_dir()
    assert (ROOT / "commands" / "perf.md").is_file()
    assert plugin["mcpServers"]["perfinvest"] == {"command": "perfinvest", "args": ["mcp"]}
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "WITHOUT WARRANTY" in license_text


def test_marketplace_lists_this_plugin() -> None:
    market = manifest("marketplace.json")
    plugin = manifest("plugin.json")
    assert set(market) <= {"name", "owner", "metadata", "plugins", "$schema", "description"}
    assert KEBAB.fullmatch(market["name"]) and market["owner"]["name"]
    [entry] = market["plugins"]
    assert entry["name"] == plugin["name"] and entry["source"] == "./"
    assert (ROOT / entry["source"] / ".claude-plugin" / "plugin.json").is_file()
    for field in ("version", "description", "license", "homepage", "repository"):
        assert entry[field] == plugin[field], field


CLAUDE = shutil.which("claude")
NEEDS_CLAUDE = pytest.mark.skipif(
    CLAUDE is None,
    reason="Claude Code is not installed (scripts/bootstrap.sh installs it when npm and its "
    "registry are there; else npm install -g @anthropic-ai/claude-code): its own validator "
    "cannot run; the schema-level tests above still apply",
)


def claude(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    """Claude Code with a configuration folder of the test's own (nothing of the user's)."""
    env = {
        **os.environ,
        "CLAUDE_CONFIG_DIR": str(config),
        "HOME": str(config),
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    assert CLAUDE is not None
    return subprocess.run(
        [CLAUDE, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@NEEDS_CLAUDE
@pytest.mark.parametrize("name", ["plugin.json", "marketplace.json"])
def test_claude_code_validates_the_manifests(name: str, tmp_path: Path) -> None:
    done = claude(
        "plugin", "validate", "--strict", str(ROOT / ".claude-plugin" / name), config=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation passed" in done.stdout


@NEEDS_CLAUDE
@pytest.mark.slow
def test_claude_code_installs_the_plugin_with_its_docs(tmp_path: Path) -> None:
    """Installed from the marketplace, the plugin folder holds what its files refer to."""
    added = claude("plugin", "marketplace", "add", str(ROOT), config=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude("plugin", "install", "perfinvest@perfinvest", config=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = claude("plugin", "list", config=tmp_path)
    assert "perfinvest@perfinvest" in listed.stdout and "enabled" in listed.stdout
    record = json.loads((tmp_path / "plugins" / "installed_plugins.json").read_text())
    [install] = record["plugins"]["perfinvest@perfinvest"]
    plugin_root = Path(install["installPath"])
    assert (plugin_root / "docs" / "perf-requirements.md").is_file()
    assert (plugin_root / "agents" / "perf-orchestrator.md").is_file()
    assert (plugin_root / "commands" / "perf.md").is_file()


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
