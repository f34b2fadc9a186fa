"""The OpenAPI/Swagger import workflow.

`openapi` converts a document to a tools document; `plan` merges it with what the server has
(`reimport`: keyed by method + path, operator `overrides` re-applied) and describes the result;
`edits` reads an operator's edited YAML back as overrides, `patching` edits one tool's overrides;
`operations` runs preview, apply, PATCH, view and detach against the server store, and
`server_writes` is what a server's own write asks of the workflow (`swaggerConfig`, edited YAML
read back); `render` and `yaml_emit` write the YAML; `examples` are the starting documents the
API serves.
"""
