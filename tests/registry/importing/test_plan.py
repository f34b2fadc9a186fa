"""Planning an import: a generated tool the registry's validator refuses costs only its operation."""

from __future__ import annotations

import msgspec
import pytest
from mcpgw_registry.importing.openapi import Skipped
from mcpgw_registry.importing.plan import screened
from mcpgw_registry.resources.tools.document import invalid_tools, validate_document

from mcpgw.contracts.errors import McpgwError
from tests.registry.importing.openapi.build import op, openapi, run, tool

PATH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def test_a_tool_the_validator_refuses_is_skipped_with_its_message() -> None:
    result = run(openapi({"/a": op(operationId="first"), "/b/{id}": op(operationId="second", parameters=[PATH_ID]),
                          "/c": op(operationId="third")}))
    assert screened(result) is result  # nothing to screen: the same result
    # What a converter defect looks like (the argument no longer matches the URL's placeholder).
    second = tool(result, "second")
    broken = msgspec.structs.replace(second, args=[msgspec.structs.replace(second.args[0], name="id2")])
    doc = msgspec.structs.replace(result.document, tools=[
        broken if t.name == "second" else t for t in result.document.tools])
    with pytest.raises(McpgwError):
        validate_document(doc)  # what failed the whole import before
    result = msgspec.structs.replace(result, document=doc, degraded=[Skipped("GET /b/{id}", "a note"),
                                                                     Skipped("GET /c", "kept")])

    out = screened(result)
    assert [t.name for t in out.document.tools] == ["first", "third"]
    assert out.skipped == [Skipped("GET /b/{id}", "the generated tool is invalid: args[0].position: is path but "
                                                  "requestTemplate.url has no {id2} placeholder")]
    assert out.degraded == [Skipped("GET /c", "kept")]
    assert out.operations == 3 == len(out.document.tools) + len(out.skipped)
    validate_document(out.document)


def test_the_server_block_is_still_checked_as_a_whole() -> None:
    result = run(openapi({"/a": op()}))
    doc = msgspec.structs.replace(result.document, server=msgspec.structs.replace(result.document.server, name=" "))
    with pytest.raises(McpgwError) as caught:
        invalid_tools(doc)
    assert caught.value.message == "server.name: must not be empty"
