"""The shipped OpenAPI document: valid 3.1, and complete about what the server answers."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema_rs
import pytest
import schemathesis

DOC: dict[str, Any] = json.loads(
    (resources.files("vms_tray") / "data" / "openapi.json").read_text(encoding="utf-8")
)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in DOC["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    ]


def test_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(DOC).validate()


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["info"].pop("title"),
        lambda d: d["paths"]["/api/v1/server"]["get"]["responses"]["200"].pop("description"),
        lambda d: d["paths"]["/api/v1/sessions/{id}"]["parameters"][0].pop("in"),
    ],
)
def test_the_validator_catches_a_broken_document(break_it: Any) -> None:
    broken = copy.deepcopy(DOC)
    break_it(broken)
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = DOC["components"][kind][name]
    return node


@pytest.mark.parametrize(("path", "method", "op"), operations())
def test_every_operation_documents_its_errors(path: str, method: str, op: dict[str, Any]) -> None:
    responses = {code: resolve(r) for code, r in op["responses"].items()}
    if op["operationId"] != "getServer":
        assert "503" in responses  # maintenance mode applies to every API call but discovery
        assert "Retry-After" in responses["503"]["headers"]
    if op.get("security"):
        assert "401" in responses
    for code, response in responses.items():
        if code == "401":
            assert "WWW-Authenticate" in response["headers"]
        if code[0] in "45":
            assert list(response["content"]) == ["application/problem+json"]


def test_protocol_decisions_are_written_down() -> None:
    text = DOC["info"]["description"]
    for decision in ("idle_timeout", "Refresh rotation", "conflict token", "idempotent", "300 s"):
        assert decision in text
    # Sign-in protection (issue 14 items 2, 3, 9; issue 10 item 7).
    for decision in (
        "(login, client address) pair",
        "2 wrong passwords",
        "*known device*",
        "device_token",
        "at most 10 are outstanding per address",
        "`Content-Type: application/json`",
        "within 10 s",
    ):
        assert decision in text, decision


@pytest.mark.parametrize("name", sorted(DOC["components"]["schemas"]))
def test_component_schemas_are_valid_json_schema_2020_12(name: str) -> None:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12, which the document validator does not check.
    jsonschema_rs.meta.validate(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **DOC["components"]["schemas"][name],
        }
    )


def test_problem_schema_matches_a_real_problem() -> None:
    from vms_tray.refserver.problems import Problem

    schemas = {"$defs": DOC["components"]["schemas"]}
    text = json.dumps(schemas).replace("#/components/schemas/", "#/$defs/")
    root = json.loads(text)
    validator = jsonschema_rs.validator_for({**root, "$ref": "#/$defs/SessionEndedProblem"})
    body = Problem("session-ended", "d", extensions={"reason": "logout"}).body()
    validator.validate(body)
    assert not validator.is_valid({**body, "reason": "because"})
