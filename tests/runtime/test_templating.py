from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from mcpgw.contracts import McpgwError
from mcpgw.templating import Template, UrlTemplate, is_relative


@pytest.mark.parametrize("source,rendered", [
    ("{{.args.x}}", "1"),
    ("{{ .config.base }}/a", "b/a"),
    ("{{toJson .args.items}}", "[1,2]"),
    ("{{ .args.x | toJson }}", "1"),
    ("{{if .args.x}}X{{else}}Y{{end}}", "X"),
    ("{{ args.x }}", "1"),  # Jinja
    ("{{ toJson(args['items']) }} {{ args['items'] | toJson }}", "[1,2] [1,2]"),  # Jinja calls and filters
    ("{{ args.x }}-{{.args.x}}", "1-1"),  # a Jinja expression among Go actions
    ("{% if args.x %}{{ config.base }}{% endif %}", "b"),  # Jinja
])
def test_go_and_jinja_forms_render_alike(source: str, rendered: str) -> None:
    assert Template(source, "body").render({"args": {"x": 1, "items": [1, 2]}, "config": {"base": "b"}}) == rendered


def test_text_templates_render_arguments_and_config() -> None:
    body = Template('{"ids": {{toJson .args.ids}}, "who": "{{.args.name}}", "env": "{{.config.env}}"}', "body")
    assert body.render({"args": {"ids": [1, 2], "name": "a"}, "config": {"env": "prod"}}) == \
        '{"ids": [1,2], "who": "a", "env": "prod"}'


def test_sandbox_hides_python_internals() -> None:
    probe = Template("{{ args.__class__.__mro__ }}{{ config.__init__.__globals__ }}", "body")
    assert probe.render({"args": {}, "config": {}}) == ""


def test_config_only_templates_render_once_per_config() -> None:
    header = Template("Bearer {{.config.token}}", "header")
    first, second = {"token": "a"}, {"token": "b"}
    assert header.render({"args": {"x": 1}, "config": first}) == "Bearer a"
    assert header.render({"args": {"x": 2}, "config": first}) == "Bearer a"
    assert header.render({"args": {}, "config": second}) == "Bearer b"  # a new revision's config


def test_url_arguments_are_percent_encoded_and_config_is_trusted() -> None:
    config = {"base": "https://api.example.com:8443/v1"}
    url = UrlTemplate("{{.config.base}}/search?q={{.args.q}}", "url", config, set())
    rendered = url.render({"q": "a b/../?#&x=1"}, config)
    assert rendered == "https://api.example.com:8443/v1/search?q=a%20b%2F..%2F%3F%23%26x%3D1"
    assert url.origin == ("https", "api.example.com", 8443)
    assert url.same_origin(rendered)
    assert not url.same_origin("https://evil.example:8443/v1")


@pytest.mark.parametrize("source", [
    "http://{{.args.host}}/x",
    "{{.args.base}}/x",
    "http://h:{{.args.port}}/x",
    "http://{host}/x",
    "//relative/path",  # scheme-relative: a path must start with a single "/"
    "ftp://h/x",
    "http://h/{{ bad syntax",
])
def test_url_templates_that_arguments_could_redirect_are_refused(source: str) -> None:
    with pytest.raises(McpgwError) as err:
        UrlTemplate(source, "tools[0].requestTemplate.url", {}, {"host"})
    assert err.value.message.startswith("tools[0].requestTemplate.url: ")


# -- relative URLs (resolved against the server's backendConfig) --------------------------------


def test_a_relative_url_is_a_path_whose_origin_is_the_picked_address() -> None:
    template = UrlTemplate("/items/{{.args.id}}", "url", {}, set())
    assert template.relative and template.origin is None
    assert is_relative("/x") and not is_relative("//x") and not is_relative("http://a/x")
    path = template.render({"id": "a/b"}, {})
    assert path == "/items/a%2Fb"  # an argument cannot add path segments, let alone a host
    url = UrlTemplate.join("http://10.0.0.1:8080", path)
    assert url == "http://10.0.0.1:8080/items/a%2Fb" and template.same_origin(url, "http://10.0.0.1:8080")
    assert not template.same_origin("http://10.0.0.1:80800/x", "http://10.0.0.1:8080")
    assert not template.same_origin("http://evil.example/x", "http://10.0.0.1:8080")


def test_a_rendered_double_slash_stays_a_path_on_the_picked_backend() -> None:
    template = UrlTemplate("/{{.config.p}}", "url", {"p": "/evil.example/x"}, set())
    path = template.render({}, {"p": "/evil.example/x"})
    assert path == "//evil.example/x"
    url = UrlTemplate.join("http://10.0.0.1:8080", path)
    assert urlsplit(url).netloc == "10.0.0.1:8080" and template.same_origin(url, "http://10.0.0.1:8080")
    with pytest.raises(ValueError):
        UrlTemplate.join("http://10.0.0.1:8080", "evil.example/x")


def test_a_scheme_relative_url_is_refused() -> None:
    with pytest.raises(McpgwError) as refused:
        UrlTemplate("//evil.example/{{.args.id}}", "tools[t].requestTemplate.url", {}, set())
    assert "single '/'" in refused.value.message and refused.value.message.startswith("tools[t]")
