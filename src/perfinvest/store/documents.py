"""Reading and writing versioned JSON documents with one-line errors, never tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from perfinvest.core.errors import environment_error, state_error
from perfinvest.core.models import FORMAT_VERSION, first_validation_problem
from perfinvest.store.atomic import atomic_write_text

M = TypeVar("M", bound=BaseModel)

_ADVICE = "fix or move the file aside (perfinvest never deletes state)"


def parse_document(text: str, model: type[M], source: Path | str) -> M:
    """Validate ``text`` as ``model``: JSON, kind, format version, then the model itself."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise state_error(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            + _ADVICE
        ) from None
    if not isinstance(raw, dict):
        raise state_error(f"{source} does not hold a JSON object; {_ADVICE}")
    expected_kind = model.model_fields["kind"].default if "kind" in model.model_fields else None
    kind = raw.get("kind")
    if expected_kind is not None and kind != expected_kind:
        raise state_error(f"{source} is a {kind!r} document, expected {expected_kind!r}; {_ADVICE}")
    version = raw.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise state_error(f"{source} has no integer format_version; {_ADVICE}")
    if version > FORMAT_VERSION:
        raise state_error(
            f"{source} has format version {version}, newer than the {FORMAT_VERSION} this "
            "perfinvest reads; upgrade perfinvest (`pip install -U perfinvest`)"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise state_error(
            f"{source} is invalid: {first_validation_problem(exc)}; {_ADVICE}"
        ) from None


def read_document(path: Path, model: type[M]) -> M:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise state_error(f"{path} is not UTF-8 text; {_ADVICE}") from None
    except OSError as exc:
        raise environment_error(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_document(text, model, path)


def dump_document(document: BaseModel) -> str:
    """Stable, diff-friendly JSON: sorted keys would scramble the reading order, so not."""
    return document.model_dump_json(indent=2) + "\n"


def write_document(path: Path, document: BaseModel) -> None:
    atomic_write_text(path, dump_document(document))
