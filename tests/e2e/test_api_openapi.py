"""/openapi.json is the contract: every field and parameter described, every problem listed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.api_support import Api

COMMAND_PROBLEMS = {"400", "401", "403", "404", "409", "412", "422"}
CREATE_PROBLEMS = COMMAND_PROBLEMS - {"412"}
QUERY_PROBLEMS = {"400", "401", "403", "404", "422"}
#: Fewer words than this cannot say what a value means beyond its name.
MIN_DESCRIPTION_WORDS = 3


def _acts_on_one(path: str) -> bool:
    """A command on an existing resource (If-Match applies), not a creation or submission."""
    return path.count("{") > 0 and not path.startswith("/v1/alerts/")


def _schema(api: Api) -> dict[str, Any]:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def test_every_field_and_parameter_is_described(api: Api) -> None:
    schema = _schema(api)
    undescribed = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, definition in component.get("properties", {}).items()
        if "description" not in definition
    ]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not operation.get("description"):
                undescribed.append(f"{method} {path}")
            undescribed += [
                f"{method} {path} {parameter['name']}"
                for parameter in operation.get("parameters", [])
                if not parameter.get("description")
            ]
    assert undescribed == []


def _words(text: str) -> str:
    """``text`` lowercased, each run of non-alphanumerics one space."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_every_field_description_says_more_than_its_name(api: Api) -> None:
    """A description that restates its field ("Status.", "Its id.") tells an integrator nothing."""
    schema = _schema(api)
    restated = []
    for name, component in schema["components"]["schemas"].items():
        for field, definition in component.get("properties", {}).items():
            description = definition.get("description", "")
            said = _words(description)
            names = {
                _words(field.replace("_", " ")),
                _words(field.removesuffix("_id").replace("_", " ")),
                _words(field.removesuffix("_fen").replace("_", " ")),
            }
            if said in names or len(said.split()) < MIN_DESCRIPTION_WORDS:
                restated.append(f"{name}.{field}: {description!r}")
    assert restated == [], "descriptions that only restate the field:\n" + "\n".join(restated)


def test_every_route_lists_its_problems_as_problem_json(api: Api) -> None:
    schema = _schema(api)
    missing = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            if method == "post":
                expected = COMMAND_PROBLEMS if _acts_on_one(path) else CREATE_PROBLEMS
            else:
                expected = QUERY_PROBLEMS
            responses = operation["responses"]
            missing += [f"{method} {path} {code}" for code in expected - set(responses)]
            for code in expected & set(responses):
                content = responses[code]["content"]
                assert set(content) == {"application/problem+json"}, (method, path, code)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
            assert operation["security"] == [{"bearer": []}]
    assert missing == []


def test_commands_document_idempotency_and_if_match_where_it_applies(api: Api) -> None:
    schema = _schema(api)
    for path, operations in schema["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        headers = {p["name"] for p in post.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        assert ("If-Match" in headers) is _acts_on_one(path), path
