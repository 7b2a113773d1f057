"""``status`` without loading the models: the last validated answer, keyed by the state.

Agents call ``perfinvest status`` constantly; validating ``investigation.json`` needs
pydantic, whose model classes alone cost ~3x a bare ``import click, pydantic``. Every
command that saves the state also writes the status answer it implies, keyed by the
sha256 of the exact bytes it validated and saved (and perfinvest's version). ``status``
hashes the state file: the same bytes give the same answer without re-validating; any
other bytes (an edit, a newer perfinvest, a corrupt file) take the full path, so
nothing unvalidated is ever trusted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from perfinvest import __version__
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.store.atomic import atomic_write_text


def _key(state_bytes: bytes) -> str:
    return f"{__version__}:{hashlib.sha256(state_bytes).hexdigest()}"


def cached_status(ctx: AppContext) -> CommandResult | None:
    """The stored answer when it belongs to the current state file's exact bytes."""
    try:
        state = ctx.paths.active.read_bytes()
        cache = json.loads(ctx.paths.status_cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cache, dict) or cache.get("key") != _key(state):
        return None
    answer = cache.get("answer")
    return CommandResult.from_json_dict(answer) if isinstance(answer, dict) else None


def store_status(ctx: AppContext, answer: dict[str, Any]) -> None:
    """Remember ``answer`` for the state file as it is now; call with the state lock held."""
    try:
        state = ctx.paths.active.read_bytes()
    except OSError:
        return
    payload = {"key": _key(state), "answer": answer}
    atomic_write_text(ctx.paths.status_cache, json.dumps(payload, ensure_ascii=False) + "\n")
