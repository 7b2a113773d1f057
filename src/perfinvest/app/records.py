"""Phases that record what they are given (``--record FILE``) until their engine lands."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from perfinvest.core.errors import usage_error
from perfinvest.core.models import (
    validate_input,
)
from perfinvest.core.phases import Phase

RecordData = Any  # parsed JSON from a --record file


def require_record(record: RecordData | None, phase: Phase, shape: str) -> RecordData:
    if record is None:
        raise usage_error(
            f"{phase.value} records what it is given: pass --record FILE with {shape} "
            '(or --skip-reason "why" to skip the phase)'
        )
    return record


def as_list(record: RecordData) -> list[Any]:
    return record if isinstance(record, list) else [record]


def validate_all(model: type[BaseModel], items: list[Any], source: str) -> list[Any]:
    return [validate_input(model, item, f"{source} item {i}") for i, item in enumerate(items)]
