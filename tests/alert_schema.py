"""Validation of alert documents against the shipped JSON Schema (sts-alert.v1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1] / "config" / "schemas" / "sts-alert.v1.schema.json"
)
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


def assert_valid_alerts(documents: list[dict[str, Any]]) -> None:
    """Every document is a valid alert; the first error found is shown in full."""
    for document in documents:
        errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, (
            f"{document.get('type')} alert {document.get('alert_id')} is invalid: "
            f"{errors[0].message} at {list(errors[0].path)}"
        )
