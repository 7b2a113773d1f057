"""schemas/ is generated from the models; this fails when the two drift apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import SHORT, START_ARGS, run_record

from perfinvest.app.schemas import render_schemas, stale_schemas

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_committed_schemas_match_the_models() -> None:
    assert stale_schemas(SCHEMAS) == [], "run `perfinvest schemas` and commit schemas/"
    committed = [*SCHEMAS.glob("*.schema.json"), *SCHEMAS.glob("perf/*.json")]
    assert sorted(p.relative_to(SCHEMAS).as_posix() for p in committed) == sorted(render_schemas())


def test_state_files_written_by_the_cli_validate_against_the_schemas(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    cli(*START_ARGS, "--json")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    perf = repo / ".claude" / "perf"
    for name, path in [
        ("investigation", perf / "investigation.json"),
        ("baseline", perf / "baselines" / "v1.json"),
    ]:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        document = json.loads(path.read_text())
        jsonschema.validate(document, schema)
        run_schema = json.loads((SCHEMAS / "run.schema.json").read_text())
        if name == "baseline":
            for run in document["runs"]:
                jsonschema.validate(run, run_schema)


def test_schema_rejects_a_wrong_kind() -> None:
    schema = json.loads((SCHEMAS / "run.schema.json").read_text())
    bad = {**run_record("a", 1.0), "kind": "perfinvest.baseline"}
    with pytest.raises(jsonschema.ValidationError, match=r"perfinvest\.run"):
        jsonschema.validate(bad, schema)


def test_check_flag_reports_drift(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "run.schema.json").write_text("{}\n")
    result = cli("schemas", "--out", str(tmp_path), "--check", "--json")
    assert result.code == 4 and "run.schema.json" in result.json["error"]["message"]
    assert cli("schemas", "--out", str(tmp_path), "--json").code == 0
    assert cli("schemas", "--out", str(tmp_path), "--check", "--json").code == 0
