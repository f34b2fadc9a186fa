"""securitySchemes + security -> server.securitySchemes and requirements; credentials never arguments."""

from __future__ import annotations

from mcpgw_registry.resources.tools.document import invalid_tools

from mcpgw.contracts.tools import SecurityRef
from tests.registry.importing.openapi.build import args, op, openapi, run, tool

SCHEMES = {
    "basic": {"type": "http", "scheme": "basic"},
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "header_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "query_key": {"type": "apiKey", "in": "query", "name": "api_key"},
    "cookie_key": {"type": "apiKey", "in": "cookie", "name": "sid"},
    "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://x/t", "scopes": {}}}},
    "mtls": {"type": "mutualTLS"},
    "digest": {"type": "http", "scheme": "digest"},
}


def test_schemes_become_server_security_schemes() -> None:
    result = run(openapi({"/a": op()}, {"securitySchemes": SCHEMES}))
    got = {s.id: (s.type, s.scheme, s.in_, s.name, s.default_credential)
           for s in result.document.server.security_schemes}
    assert got == {
        "basic": ("http", "basic", None, None, None),
        "bearer": ("http", "bearer", None, None, None),
        "header_key": ("apiKey", None, "header", "X-API-Key", None),
        "query_key": ("apiKey", None, "query", "api_key", None),
        "cookie_key": ("apiKey", None, "cookie", "sid", None),
        "oauth": ("http", "bearer", None, None, None),
    }
    assert any("'mtls' is not supported" in w and "client certificate" in w for w in result.warnings)
    assert any("'digest' is not supported" in w for w in result.warnings)


def test_requirements_are_an_or_of_ands() -> None:
    paths = {
        "/inherit": op(),
        "/own": op(security=[{"header_key": [], "query_key": []}, {"oauth": ["read"]}]),
        "/public": op(security=[]),
        "/optional": op(security=[{"bearer": []}, {}]),
        "/unsupported": op(security=[{"mtls": []}, {"basic": []}]),
    }
    result = run(openapi(paths, {"securitySchemes": SCHEMES}, security=[{"basic": []}, {"bearer": []}]))
    rt = {t.source.path: t.request_template for t in result.document.tools if t.source}
    assert rt["/inherit"].security_requirements == [["basic"], ["bearer"]]
    assert rt["/inherit"].security == SecurityRef(id="basic")
    assert rt["/own"].security_requirements == [["header_key", "query_key"], ["oauth"]]
    assert rt["/own"].security is None  # Higress' single `security` cannot say "both"
    assert rt["/public"].security_requirements == [] and rt["/public"].security is None
    assert rt["/optional"].security_requirements == [["bearer"], []]
    assert rt["/unsupported"].security_requirements == [["basic"]]
    degraded = {d.operation: d.reason for d in result.degraded}
    assert "security alternative mtls dropped" in degraded["GET /unsupported"]


def test_credentials_and_gateway_headers_are_never_arguments() -> None:
    params = [{"name": "X-API-Key", "in": "header", "schema": {"type": "string"}},
              {"name": "x-api-key", "in": "header", "schema": {"type": "string"}},
              {"name": "api_key", "in": "query", "schema": {"type": "string"}},
              {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
              {"name": "Content-Type", "in": "header", "schema": {"type": "string"}},
              {"name": "accept", "in": "header", "schema": {"type": "string"}},
              {"name": "X-Other", "in": "header", "schema": {"type": "string"}},
              {"name": "api_key", "in": "header", "schema": {"type": "string"}}]
    result = run(openapi({"/a": op(parameters=params, security=[{"header_key": []}])}, {"securitySchemes": SCHEMES}))
    assert list(args(tool(result, "get_a"))) == ["X-Other", "api_key"]
    # The query api_key duplicates a scheme this operation does not use: said so, not silently.
    assert "query parameter 'api_key' duplicates security scheme 'query_key'" in result.degraded[0].reason


def test_an_access_token_parameter_is_the_bearer_credential() -> None:
    # Slack: every operation also declares `token` (header, query or form field) beside its oauth2 scheme.
    params = [{"name": "token", "in": "header", "required": True, "schema": {"type": "string"}},
              {"name": "channel", "in": "query", "schema": {"type": "string"}}]
    form = {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "token": {"type": "string"}, "text": {"type": "string"}}}}}}
    paths = {"/chat.postMessage": op("post", parameters=params, requestBody=form, security=[{"oauth": ["chat"]}]),
             "/no-auth": op(parameters=[{"name": "token", "in": "query", "schema": {"type": "string"}}])}
    result = run(openapi(paths, {"securitySchemes": SCHEMES}))
    post, get = result.document.tools
    assert list(args(post)) == ["channel", "text"]
    assert list(args(get)) == ["token"]  # without a bearer scheme, `token` is an ordinary argument
    assert "taken to be the access token of scheme 'oauth'" in result.degraded[0].reason


def test_token_arguments_stay_without_an_oauth_scheme() -> None:
    # Stripe: `GET /v1/tokens/{token}` under plain http bearer/basic auth; the path `token` is data.
    path_param = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]
    form = {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "token": {"type": "string"}}}}}}
    paths = {"/tokens/{token}": {"parameters": path_param, **op("post", requestBody=form)}}
    result = run(openapi(paths, {"securitySchemes": SCHEMES}, security=[{"bearer": []}]))
    assert list(args(tool(result, "post_tokens_by_token"))) == ["token__path", "token"]
    assert result.degraded == []


def test_schemes_the_gateway_cannot_send_are_unsupported_not_fatal() -> None:
    """The registry refuses a scheme without an id, and toolexec one whose name it cannot send;
    either is reported, and the operations that name it import without that alternative."""
    schemes = {"": {"type": "http", "scheme": "bearer"},
               "framing": {"type": "apiKey", "in": "header", "name": "Content-Length"},
               "spaced": {"type": "apiKey", "in": "cookie", "name": "my key"},
               "ok": {"type": "apiKey", "in": "query", "name": "key"}}
    result = run(openapi({"/a": op(security=[{"": []}, {"framing": []}, {"spaced": []}, {"ok": []}])},
                         {"securitySchemes": schemes}))
    invalid_tools(result.document)  # raises on a server block the registry would refuse
    assert [s.id for s in result.document.server.security_schemes] == ["ok"]
    assert [w for w in result.warnings if "is not supported" in w] == [
        "security scheme '' is not supported: a security scheme needs a non-empty name",
        "security scheme 'framing' is not supported: apiKey header name 'Content-Length' cannot carry a credential",
        "security scheme 'spaced' is not supported: apiKey cookie name 'my key' cannot carry a credential"]
    spec = tool(result, "get_a")
    assert spec.request_template.security_requirements == [["ok"]]
