"""Running one perfinvest command line for an MCP tool: ``python -m perfinvest ... --json``.

The subprocess's stdout is captured (it never reaches the MCP protocol stream); its stderr
is forwarded, line by line, to the server's stderr. Options are passed as
``--name=value`` and positional arguments after ``--``, so no value (a quote starting
with ``-``, say) can be mistaken for an option.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, Process

from perfinvest.mcp.models import PerfAnswer

#: How the server runs perfinvest: this interpreter, the installed package, ``-P`` so that a
#: folder of the user's repository (``mcp/``, ``click/``...) never shadows an installed module.
DEFAULT_PROGRAM: tuple[str, ...] = (sys.executable, "-P", "-m", "perfinvest")

#: Seconds a cancelled command gets to stop after SIGTERM (it restores the tree, frees the
#: lock) before it is killed.
TERMINATE_GRACE_S = 30.0

STDERR_TAIL_LINES = 20

#: Seconds between progress notifications while a command runs (clients that sent a
#: progress token reset their idle timeout on each); ``PERFINVEST_MCP_PROGRESS_S`` overrides.
PROGRESS_INTERVAL_S = 10.0

#: Called while a command runs: seconds elapsed, the last line it wrote to stderr.
ProgressHook = Callable[[float, str | None], Awaitable[None]]


class PerfinvestUnavailableError(RuntimeError):
    """perfinvest could not be run, or did not answer with one JSON object (a tool error)."""


class Args:
    """A perfinvest command line under construction: options, then ``--json``, then args."""

    def __init__(self, *command: str) -> None:
        self.items: list[str] = list(command)
        self.positionals: list[str] = []

    def opt(self, name: str, value: object) -> Args:
        if value is not None:
            self.items.append(f"{name}={_text(value)}")
        return self

    def many(self, name: str, values: Sequence[object] | None) -> Args:
        for value in values or ():
            self.opt(name, value)
        return self

    def flag(self, name: str, on: bool | None) -> Args:
        if on:
            self.items.append(name)
        return self

    def arg(self, value: object) -> Args:
        if value is not None:
            self.positionals.append(_text(value))
        return self

    def extra(self, extra_args: Sequence[str] | None) -> Args:
        self.items.extend(extra_args or ())
        return self

    def argv(self) -> list[str]:
        tail = ["--", *self.positionals] if self.positionals else []
        return [*self.items, "--json", *tail]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_answer(stdout: str) -> dict[str, Any] | None:
    """The one JSON object perfinvest printed, or None when stdout holds none."""
    text = stdout.strip()
    candidates = [text, *reversed([line for line in text.splitlines() if line.strip()])]
    for candidate in candidates:
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "ok" in parsed:
            return parsed
    return None


class Runner:
    """Runs one perfinvest command line and turns its answer into a :class:`PerfAnswer`."""

    def __init__(
        self,
        default_cwd: Path | None = None,
        program: Sequence[str] = DEFAULT_PROGRAM,
        terminate_grace_s: float = TERMINATE_GRACE_S,
        on_progress: ProgressHook | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self.default_cwd = (default_cwd or Path.cwd()).resolve()
        self.program = list(program)
        self.terminate_grace_s = terminate_grace_s
        self.on_progress = on_progress
        self.progress_interval_s = progress_interval_s

    def directory(self, cwd: str | None) -> Path:
        if not cwd:
            return self.default_cwd
        path = Path(cwd).expanduser()
        path = path if path.is_absolute() else self.default_cwd / path
        if not path.is_dir():
            raise PerfinvestUnavailableError(f"cwd {cwd!r} is not a directory")
        return path.resolve()

    async def run(self, args: Sequence[str], cwd: str | None = None) -> PerfAnswer:
        directory = self.directory(cwd)
        argv = [*self.program, *args]
        shown = ["perfinvest", *args]
        try:
            process = await anyio.open_process(
                argv,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise PerfinvestUnavailableError(
                f"cannot run perfinvest ({argv[0]}): {exc}; install it with "
                "`pip install 'perfinvest[mcp]'`"
            ) from exc
        stdout = bytearray()
        tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        try:
            async with anyio.create_task_group() as ticking:
                if self.on_progress is not None:
                    ticking.start_soon(self._tick, self.on_progress, tail)
                async with anyio.create_task_group() as group:
                    assert process.stdout is not None and process.stderr is not None
                    group.start_soon(_collect, process.stdout, stdout)
                    group.start_soon(_forward, process.stderr, tail, _label(shown))
                ticking.cancel_scope.cancel()
            code = await process.wait()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stop(process)
            raise
        return self._answer(stdout.decode("utf-8", "replace"), code, list(tail), shown)

    async def _tick(self, report: ProgressHook, tail: deque[str]) -> None:
        began = anyio.current_time()
        while True:
            await anyio.sleep(self.progress_interval_s)
            try:
                await report(anyio.current_time() - began, tail[-1] if tail else None)
            except Exception as exc:  # a client that went away must not stop the command
                sys.stderr.write(f"perfinvest mcp: progress not sent: {exc}\n")

    async def _stop(self, process: Process) -> None:
        """SIGTERM (perfinvest stops like Ctrl-C: tree killed, lock freed), then SIGKILL."""
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with anyio.move_on_after(self.terminate_grace_s):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
        await process.aclose()

    def _answer(self, stdout: str, code: int, tail: list[str], shown: list[str]) -> PerfAnswer:
        answer = parse_answer(stdout)
        if answer is None:
            said = " | ".join(line for line in tail if line.strip())
            if re.search(r"No module named '?perfinvest'?(\s|$)", said):
                raise PerfinvestUnavailableError(
                    f"perfinvest is not installed for {self.program[0]}: "
                    "`pip install 'perfinvest[mcp]'` in that environment"
                )
            raise PerfinvestUnavailableError(
                f"`{' '.join(shown)}` printed no JSON answer (exit {code})"
                + (f"; its stderr ends: {said[-1500:]}" if said else "")
                + (f"; its stdout began: {stdout.strip()[:300]!r}" if stdout.strip() else "")
            )
        answer.setdefault("command", shown[1] if len(shown) > 1 else "perfinvest")
        return PerfAnswer.model_validate({**answer, "exit_code": code, "command_line": shown})


def _label(shown: list[str]) -> str:
    """``perfinvest hypotheses add``: the command words, without options or values."""
    words: list[str] = []
    for word in shown:
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(words[:3])


async def _collect(stream: ByteReceiveStream, into: bytearray) -> None:
    async for chunk in stream:
        into.extend(chunk)


async def _forward(stream: ByteReceiveStream, tail: deque[str], label: str) -> None:
    """Copy the command's stderr to ours (never to stdout), keeping the last lines."""
    pending = b""
    async for chunk in stream:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            _emit(raw, tail, label)
    if pending:
        _emit(pending, tail, label)


def _emit(raw: bytes, tail: deque[str], label: str) -> None:
    line = raw.decode("utf-8", "replace").rstrip("\r")
    tail.append(line)
    sys.stderr.write(f"[{label}] {line}\n")
    sys.stderr.flush()
