"""Two versions of a small OpenAPI document, for import and incremental re-import tests.

v2 against v1: POST /pets added; GET /pets/{petId} changed (new operationId, a new query
parameter); DELETE /pets/{petId} removed; GET /pets unchanged.
"""

from __future__ import annotations

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
