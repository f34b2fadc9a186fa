"""Two versions of a small OpenAPI document, for import and incremental re-import tests.

v2 against v1: POST /pets added; GET /pets/{petId} changed (new operationId, a new query
parameter); DELETE /pets/{petId} removed; GET /pets unchanged.

`awkward`: operations of every class that once failed a whole import, and plain ones beside them.
"""

from __future__ import annotations

from typing import Any

import msgspec

V1 = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers:
  - url: {base}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}}
      responses:
        "200": {description: ok}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getPet
      summary: Get a pet
      parameters:
        - {name: tag, in: query, schema: {type: string}}
      responses:
        "200": {description: ok}
    delete:
      operationId: deletePet
      summary: Delete a pet
      responses:
        "204": {description: gone}
"""

V2 = """\
openapi: 3.0.3
info: {title: Pets, version: "2"}
servers:
  - url: {base}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}}
      responses:
        "200": {description: ok}
    post:
      operationId: createPet
      summary: Create a pet
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
      responses:
        "201": {description: created}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
    get:
      operationId: showPetById
      summary: Get a pet
      parameters:
        - {name: tag, in: query, schema: {type: string}}
        - {name: fields, in: query, schema: {type: string}}
      responses:
        "200": {description: ok}
"""


def v1(base: str = "https://pets.example.com") -> str:
    return V1.replace("{base}", base)


def v2(base: str = "https://pets.example.com") -> str:
    return V2.replace("{base}", base)


def _param(name: str, where: str = "query", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"}}


def _get(operation_id: str, *params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": operation_id, "parameters": list(params),
                    "responses": {"200": {"description": "ok"}}, **extra}}


def awkward(base: str = "https://awkward.example.com") -> bytes:
    """Operations a converter finds hard, each of a class seen failing whole imports, next to a
    plain one. What each becomes is asserted by the tests that import it."""
    body = {"type": "object", "required": [""], "properties": {"": {"type": "string"}, "name": {"type": "string"}}}
    paths: dict[str, Any] = {
        # One parameter twice in a path, once inside a segment (Azure's resource paths).
        "/subscriptions/{sub}/providers/System.{location}/locations/{location}/usages": _get(
            "listUsages", _param("sub", "path", True), _param("location", "path", True)),
        # Two parameters in one segment.
        "/reports/{id}.{format}": _get("getReport", _param("id", "path", True), _param("format", "path", True)),
        # Names that need cleaning, two of them to the same argument, and headers that cannot be sent.
        "/search": _get("search", _param("filter[name]"), _param("a b"), _param("a_b"), _param("größe"),
                        _param("tab\tname"), _param("X Trace", "header"), _param("Content-Length", "header"),
                        _param("")),
        "/undeclared/{thing}": _get("undeclared"),
        "/unplaced": _get("unplaced", _param("ghost", "path", True)),
        "/plain": _get("plain"),
        # Each of these is skipped, and nothing else is.
        "/needs-nameless": _get("needsNameless", _param("", required=True)),
        "/needs-bad-header": _get("needsBadHeader", _param("X Bad", "header", True)),
        "/nameless/{}": _get("namelessPlaceholder"),
        "/elsewhere": _get("elsewhere", servers=[{"url": "https://[::1/v1"}]),
        "/nameless-field": {"post": {"operationId": "namelessField", "responses": {"200": {"description": "ok"}},
                                     "requestBody": {"required": True,
                                                     "content": {"application/json": {"schema": body}}}}},
    }
    return msgspec.json.encode({"openapi": "3.0.3", "info": {"title": "Awkward", "version": "1"},
                                "servers": [{"url": base}], "paths": paths})
