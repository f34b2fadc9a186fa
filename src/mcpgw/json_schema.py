"""JSON Schema 2020-12 as the gateway reads tool schemas: its keywords, grouped by what their value is.

The one home of these lists, with several readers that must agree: the registry checks the
schemas of a tools document (`resources/tools/schema_check`), walks them for `x-mcp-header`, and
its OpenAPI converter writes them and counts their subschemas against the same limits; the edge
finds the mirrored arguments of a `tools/list` entry; toolexec reads argument types. A keyword one
of them took for a subschema and another did not would let a schema pass the check and then be
walked differently (or not at all) where it is used.
"""

from __future__ import annotations

import typing

from mcpgw.contracts.tools import ArgType

# The `type` keyword's names.
JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
# What one argument can be (a tools document's `args[].type`): a JSON type; null is nullability.
ARG_TYPES: frozenset[str] = frozenset(typing.get_args(ArgType))

# Keywords whose value is a subschema, a map of names to subschemas, or a list of subschemas
# (applicators, including the 2019-09 and draft-7 spellings a document may still carry).
SUBSCHEMA = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
                       "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema"})
SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
SUBSCHEMA_LISTS = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})

# Keywords by the kind of value they take.
NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
COUNT_KEYWORDS = frozenset({"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
                            "minContains", "maxContains"})
TEXT_KEYWORDS = frozenset({"title", "description", "$comment", "format", "$id", "$schema", "$ref", "$anchor",
                           "$dynamicRef", "$dynamicAnchor", "contentEncoding", "contentMediaType"})
FLAG_KEYWORDS = frozenset({"uniqueItems", "readOnly", "writeOnly", "deprecated"})

# MCP 2026-07-28 (SEP-2243): a property annotated `"x-mcp-header": "<Name>"` is mirrored by clients
# into the header `Mcp-Param-<Name>`. Only primitive properties reached from the root through
# `properties` alone may carry it, each header name once (case-insensitively): the registry
# refuses other annotations, the edge checks the mirror against the arguments.
X_MCP_HEADER = "x-mcp-header"
HEADER_TYPES = frozenset({"string", "integer", "boolean"})
