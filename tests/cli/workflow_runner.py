"""Run a workflow job's `run:` steps as a GitHub runner would, here.

Each `run:` step, in the job's order, is written to a file and run by
`bash --noprofile --norc -eo pipefail` (the runner's shell) in the checkout, with the
step's `env:` expanded and the runner's files and variables set: a fresh `GITHUB_OUTPUT`
per step (read back into `steps.<id>.outputs.*` for the next steps' expressions),
`GITHUB_STEP_SUMMARY`, `GITHUB_BASE_REF`, `GITHUB_WORKSPACE`, `RUNNER_TEMP`, `CI`. The first
step that fails ends the job, as on a runner. `uses:` steps cannot run here: the caller
stands in for them (a clone for checkout, a virtualenv on PATH for setup-python) and they
are returned, so a test can check which actions at which majors the job uses.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class JobRun:
    code: int = 0
    ran: list[str] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    log: str = ""


def expand(text: str, context: dict[str, str]) -> str:
    """`${{ a || 'literal' }}`: the first operand that is set (a name from ``context`` or a
    quoted literal); a name not in ``context`` is empty, as an unset variable is."""

    def one(match: re.Match[str]) -> str:
        for raw in match.group(1).split("||"):
            operand = raw.strip()
            value = operand[1:-1] if operand.startswith("'") else context.get(operand, "")
            if value:
                return value
        return ""

    return EXPRESSION.sub(one, text)


def job_steps(workflow: str, job: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load(workflow)["jobs"][job]["steps"])


def run_job(
    workflow: str,
    job: str,
    checkout: Path,
    *,
    variables: dict[str, str],
    env: dict[str, str],
    summary: Path,
    scratch: Path,
    skip: tuple[str, ...] = (),
) -> JobRun:
    """Every `run:` step of ``job`` in order (``skip``: step names stood in for, said)."""
    result = JobRun()
    context = {f"vars.{k}": v for k, v in variables.items()} | {"runner.os": "Linux"}
    base_env = {k: v for k, v in os.environ.items() if k != "AI_STATE_DIR"} | env
    base_env |= {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(checkout),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(scratch),
    }
    for number, step in enumerate(job_steps(workflow, job)):
        if "uses" in step:
            result.uses.append(step["uses"])
            continue
        name = step.get("name", f"step {number}")
        if name in skip:
            continue
        assert "if" not in step, f"{name}: the runner's `if:` is not evaluated here"
        output = scratch / f"output-{number}"
        output.write_text("")
        script = scratch / f"step-{number}.sh"
        script.write_text(step["run"])
        assert "${{" not in step["run"], f"{name}: an expression in the script itself"
        step_env = {k: expand(str(v), context) for k, v in (step.get("env") or {}).items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=checkout, env=base_env | step_env | {"GITHUB_OUTPUT": str(output)},
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        result.ran.append(name)
        result.log += f"--- {name} (exit {done.returncode})\n{done.stdout}{done.stderr}"
        if "id" in step:
            pairs = [line.partition("=") for line in output.read_text().splitlines() if line]
            result.outputs[step["id"]] = {k: v for k, _, v in pairs}
            context |= {f"steps.{step['id']}.outputs.{k}": v for k, _, v in pairs}
        if done.returncode != 0:
            result.code = done.returncode
            break
    return result
