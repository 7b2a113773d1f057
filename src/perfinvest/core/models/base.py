"""The shared vocabulary of the persisted domain: the format version, literals, the base model.

Also the one-line validation errors every loader and ``--record`` reader answers with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfinvest.core.errors import usage_error

#: The format version this perfinvest writes and the newest it reads, per document kind.
FORMAT_VERSION = 1

Direction = Literal["lower", "higher"]
RunMode = Literal["duration", "repeat", "tool"]  # tool: hyperfine, pyperf... fill it
InvestigationStatus = Literal["in_progress", "blocked", "complete"]
AttemptOutcome = Literal["completed", "skipped", "progress", "failed"]
Confidence = Literal["low", "medium", "high"]
HypothesisStatus = Literal["untested", "confirmed", "refuted", "inconclusive"]
DecisionVerdict = Literal["continue", "stop", "abandon"]
ComparisonVerdict = Literal["improved", "regressed", "unchanged", "inconclusive"]

_M = TypeVar("_M", bound=BaseModel)

NonEmptyStr = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """Base for every record: strict about unknown fields, validators built on first use."""

    model_config = ConfigDict(extra="forbid", defer_build=True, validate_assignment=False)


def first_validation_problem(exc: ValidationError) -> str:
    """The first problem of a validation error as ``location: message``, for one-line errors."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error.get("loc", ())) or "document"
    return f"{location}: {error.get('msg', 'invalid')}"


def validate_input(model: type[_M], raw: Any, source: str) -> _M:
    """Validate user-given data (``--record`` files) with a one-line usage error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise usage_error(
            f"{source} is not a valid {model.__name__}: {first_validation_problem(exc)}"
        ) from None
