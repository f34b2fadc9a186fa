"""The admin API's own OpenAPI 3.1 document (`GET /v1/openapi.json`).

`operations` lists every route with its parameters, body and answer; `views` describes the answers
the handlers build as dicts; `document` assembles the two, generating the schemas of request
bodies from the msgspec Structs the handlers decode into, and serves the result.
"""
