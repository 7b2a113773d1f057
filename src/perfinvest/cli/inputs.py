"""Reading user-given files (``--record``) with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfinvest.core.errors import usage_error


def read_json_file(path: str | None) -> Any:
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise usage_error(f"--record file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"cannot read --record file {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(
            f"--record file {path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
