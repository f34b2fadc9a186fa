"""Higress's Go templates render here as Higress renders them, or are refused when compiled.

Every expected string is written by hand from Go's text/template semantics as Higress runs them
(github.com/higress-group/gjson_template: data is JSON read with GJSON paths, plus Sprig): a
missing value prints nothing, objects and arrays print as their JSON, numbers as their JSON text.
The forms are those of the Higress reference (docs: /work/shared/reference/higress-yaml.md §1.6)
and the range/with/variable forms of issue 12.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from mcpgw.contracts import McpgwError
from mcpgw.gotemplate import TemplateRuntimeError, decode_response
from mcpgw.templating import Template, UrlTemplate

ARGS: dict[str, Any] = {
    "items": [{"name": "a", "qty": 2}, {"name": "b", "qty": 0}],
    "owner": {"name": "ann", "tags": ["x", "y"]},
    "empty": [],
    "n": 3,
    "ratio": 2.5,
    "whole": 4.0,  # a JSON number Go marshals as 4
    "flag": True,
    "nothing": None,
    "word": "héllo",
    "q": "a b&c/d",
    "obj": {"z": 1, "a": "<b>"},  # Go marshals map keys sorted and escapes <, >, &
}
CONFIG = {"base": "https://api.example.com", "unit": "C"}


def render(source: str, data: dict[str, Any] | None = None) -> str:
    return Template(source, "body").render(data if data is not None else {"args": ARGS, "config": CONFIG})


@pytest.mark.parametrize(("source", "expected"), [
    # the two forms: dot is rebound inside range and with
    ("{{range .args.items}}{{.name}}{{end}}", "ab"),
    ("{{with .args.owner}}{{.name}}{{end}}", "ann"),
    ("{{with .args.word}}{{.}}{{end}}", "héllo"),
    # nested fields, $ for the root, $.args inside a range
    ("{{range .args.items}}{{.name}}:{{$.args.n}};{{end}}", "a:3;b:3;"),
    ("{{with .args.owner}}{{$.config.unit}}-{{range .tags}}{{.}}{{end}}{{end}}", "C-xy"),
    ("{{range .args.items}}{{with .qty}}{{.}}{{else}}none{{end}},{{end}}", "2,none,"),
    ("{{.args.owner.tags}}", '["x","y"]'),
    # range variables, index first; one variable is the element
    ("{{range $i, $e := .args.items}}{{$i}}={{$e.name}} {{end}}", "0=a 1=b "),
    ("{{range $e := .args.items}}{{$e.qty}}{{end}}", "20"),
    ("{{range $k, $v := .args.obj}}{{$k}}={{$v}};{{end}}", "a=<b>;z=1;"),  # keys in Go map order
    # else branches of range and with; else if / else with
    ("{{range .args.empty}}x{{else}}no items{{end}}", "no items"),
    ("{{range .args.missing}}x{{else}}no items{{end}}", "no items"),
    ("{{with .args.nothing}}x{{else}}null{{end}}", "null"),
    ("{{with .args.missing}}x{{else with .args.n}}n={{.}}{{end}}", "n=3"),
    ("{{if .args.empty}}a{{else if .args.flag}}b{{else}}c{{end}}", "b"),
    # `else if` outside an if (`else with` outside a with) opens a block that needs its own end
    ("{{with .args.missing}}x{{else if .args.flag}}y{{end}}z{{end}}", "yz"),
    ("{{range .args.empty}}x{{else with .args.owner}}{{.name}}{{end}}{{end}}", "ann"),
    # variables declared in a block and reassigned inside a range
    ("{{$sum := 0}}{{range .args.items}}{{$sum = add $sum .qty}}{{end}}{{$sum}}", "2"),
    ("{{with $o := .args.owner}}{{$o.name}}/{{.name}}{{end}}", "ann/ann"),
    ("{{range $i, $e := .args.items}}{{if $i}},{{end}}{{$e.name}}{{end}}", "a,b"),
    ("{{range .args.items}}{{if eq .name \"b\"}}{{break}}{{end}}{{.name}}{{end}}", "a"),
    ("{{range .args.items}}{{if not .qty}}{{continue}}{{end}}{{.name}}{{end}}", "a"),
    ("{{range 3}}{{.}}{{end}}", "012"),
    ("{{range $i, $c := \"hé!\"}}{{$i}}{{$c}}{{end}}", "0h1é3!"),  # byte offsets, as Go
    # index, len, comparisons, and/or (the deciding value), not
    ("{{index .args.items 1}}", '{"name":"b","qty":0}'),
    ("{{(index .args.items 0).name}}", "a"),
    ("{{index .args.owner \"name\"}}", "ann"),
    ("{{len .args.items}} {{len .args.word}} {{len .args.obj}} {{len .args.missing}}", "2 6 2 0"),
    # a value piped into a builtin that has no argument of its own: Higress fails, Go passes it
    ("{{.args.items | len}} {{.args.n | eq 3}} {{.args.flag | not}}", "2 true false"),
    ("{{if and .args.items (gt (len .args.items) 1)}}many{{end}}", "many"),
    ("{{and .args.flag .args.n}} {{or .args.empty .args.word}} {{or .args.nothing .args.empty}}", "3 héllo []"),
    ("{{not .args.flag}} {{eq .args.n 3}} {{eq .args.n \"3\"}} {{ne .args.n \"3\"}} {{lt .args.ratio 3}}",
     "false true true true true"),
    ("{{if and .args.missing (index .args.missing 0)}}x{{else}}short-circuit{{end}}", "short-circuit"),
    # printing JSON values as gjson does
    ("{{.args.n}} {{.args.ratio}} {{.args.whole}} {{.args.flag}} {{.args.nothing}} [{{.args.missing}}]",
     "3 2.5 4 true null []"),
    ("{{.args.obj}}", '{"a":"\\u003cb\\u003e","z":1}'),
    ("{{.}}", '{"args":{"empty":[],"flag":true,"items":[{"name":"a","qty":2},{"name":"b","qty":0}],'
              '"n":3,"nothing":null,"obj":{"a":"\\u003cb\\u003e","z":1},"owner":{"name":"ann","tags":["x","y"]},'
              '"q":"a b\\u0026c/d","ratio":2.5,"whole":4,"word":"héllo"},'
              '"config":{"base":"https://api.example.com","unit":"C"}}'),
    # pipelines, parentheses, builtins
    ("{{.args.word | printf \"%s!\"}}", "héllo!"),
    ("{{printf \"%04d|%.2f|%v|%q\" .args.n .args.ratio .args.owner.tags .args.word}}",
     '0003|2.50|["x","y"]|"héllo"'),
    ("{{printf \"%.2f\" .args.whole}}", "%!f(int=4)"),  # gjson hands an integral number over as an int
    ("{{print .args.n .args.word .args.missing}}|{{println .args.flag}}", "3 héllo |true\n"),
    ("{{.args.q | urlquery}} {{html \"<a href='x'>\"}} {{js \"it's <b>\"}}",
     "a+b%26c%2Fd &lt;a href=&#39;x&#39;&gt; it\\'s \\u003Cb\\u003E"),
    ("{{\"quoted\"}} {{`raw \\n`}} {{42}} {{1.5}} {{2.0}} {{true}} {{'a'}}", "quoted raw \\n 42 1.500000 2 true 97"),
    # Sprig, as listed in the reference: add, toJson, default, b64enc, urlquery (above)
    ("{{add 1 .args.n}} {{add .args.ratio 1}}", "4 3"),
    ("{{toJson .args.word}} {{toJson .args.n}} {{toJson .args.flag}} {{toJson .args.nothing}}", '"héllo" 3 true null'),
    ("{{default \"none\" .args.missing}} {{default \"none\" .args.word}} {{.args.missing | default \"zero\"}}",
     "none héllo zero"),
    ("{{b64enc .args.word}} {{b64dec \"aGk=\"}}", "aMOpbGxv hi"),
    ("{{upper .args.word}} {{.args.owner.name | title}} {{trimSuffix \"/\" \"a/\"}} {{replace \"a\" \"o\" \"banana\"}}",
     "HÉLLO Ann a bonono"),
    ("{{quote .args.word}} {{toString .args.n}} {{squote .args.n}} {{cat .args.word .args.n}}",
     '"héllo" 3 \'3\' héllo 3'),
    ("{{sub 10 .args.n}} {{mul 2 .args.n}} {{div 7 2}} {{mod -7 2}} {{max 1 .args.n 2}} {{addf 1 .args.ratio}}",
     "7 6 3 -1 3 3.500000"),
    ("{{ternary \"yes\" \"no\" .args.flag}} {{empty .args.word}} {{coalesce .args.missing .args.nothing .args.n}}",
     "yes false 3"),
    # Sprig functions declared to return interface{} come back as fmt.Sprint's text in gjson_template:
    # `default false` is the string "false" (true to `if`), `toJson` quotes a defaulted number.
    ("{{if default false .args.missing}}text{{end}} {{toJson (default 0 .args.n)}} {{coalesce .args.missing}}",
     'text "3" <nil>'),
    ('{{dateInZone "2006-01-02 15:04:05 MST" 1700000000 "Asia/Shanghai"}}', "2023-11-15 06:13:20 CST"),
    ('{{date "Mon Jan _2 2006" 0}}', "Thu Jan  1 1970"),
    ("{{trim \"  x  \"}}|{{trunc 2 \"hello\"}}|{{substr 1 3 \"abcd\"}}|{{repeat 2 \"ab\"}}", "x|he|bc|abab"),
    # GJSON paths through the gjson function
    ('{{gjson "args.items.#.name"}} {{gjson "args.items.#"}} {{gjson "args.items.1.name"}}', '["a","b"] 2 b'),
    ('{{gjson "args.items.#(qty>0)#.name"}} {{gjson "args.items.#(name==\\"b\\").qty"}}', '["a"] 0'),
    ('{{gjson "args.owner.tags.@reverse"}} {{gjson "args.obj.@keys"}}', '["y","x"] ["a","z"]'),
    ('{{range gjson "args.items.#(qty>=0)#"}}{{.name}}{{end}}', "ab"),
    # trim markers and comments
    ("a  {{- .args.n -}}  b {{/* a comment */}}c {{- /* trimmed */ -}} d", "a3b cd"),
    # text that Jinja would otherwise read as its own syntax: `{` before an action, `}` after one
    ('{"a": {  {{- toJson .args.n}}}}', '{"a": {3}}'),
    ("line\r\n{{.args.n}}\r\n", "line\r\n3\r\n"),
])
def test_go_template_forms_render_as_higress_renders_them(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(("source", "expected", "in_higress"), [
    ('{"ids": {{toJson .args.owner.tags}}}', '{"ids": ["x","y"]}', '{"ids": "[\\"x\\",\\"y\\"]"}'),
    ("{{toJson .args.obj}}", '{"a":"\\u003cb\\u003e","z":1}', None),
    ("{{join \",\" .args.owner.tags}}", "x,y", '["x","y"]'),
    ("{{first .args.owner.tags}}", "x", None),  # Higress: "Cannot find first on type string"
    ("{{.args.empty | default \"none\"}} {{empty .args.empty}}", "none true", "[] false"),
])
def test_sprig_functions_receive_arrays_and_objects_as_values(source: str, expected: str,
                                                              in_higress: str | None) -> None:
    """The one deliberate difference: Higress's engine hands Sprig an array or object as its JSON
    text, so `toJson` quotes it (higress#2751) and list functions see a string; mcpgw hands over the
    value, as Go's text/template does and as the Higress docs tell operators to rely on."""
    assert render(source) == expected != in_higress


def test_the_reference_gjson_examples() -> None:
    doc = {"name": {"first": "Tom", "last": "Anderson"}, "age": 37, "children": ["Sara", "Alex", "Jack"],
           "fav.movie": "Deer Hunter",
           "users": [{"name": "Dale", "age": 44}, {"name": "Roger", "age": 68}, {"name": "Jane", "age": 29}]}
    assert render("{{.name.first}} {{.name.last}}", doc) == "Tom Anderson"
    assert render('{{gjson "users.#(age>=30)#.name"}}', doc) == '["Dale","Roger"]'
    assert render('{{gjson "users.#(age>=30).name"}}', doc) == "Dale"
    assert render('{{gjson "children.@reverse"}} {{gjson "children.@reverse.0"}}', doc) == '["Jack","Alex","Sara"] Jack'
    assert render('{{gjson "fav\\\\.movie"}} {{gjson "child*.2"}} {{gjson "users.#(name%\\"J*\\").age"}}', doc) == \
        "Deer Hunter Jack 29"
    # `{{.users.0.name}}` is refused (below): `index` and `gjson` are the forms that reach an element.
    assert render('{{(index .users 0).name}} {{gjson "users.0.name"}}', doc) == "Dale Dale"


def test_error_response_headers_by_gjson_path() -> None:
    # The Higress docs' errorResponseTemplate: `:status` needs GJSON's escape, `\\:` in a Go string.
    data = {"_headers": {":status": "404", "x-ca-error-code": "E42"}, "message": "no such item"}
    template = 'statusCode: {{gjson "_headers.\\\\:status"}}, code: {{gjson "_headers.x-ca-error-code"}}: {{.message}}'
    assert render(template, data) == "statusCode: 404, code: E42: no such item"


def test_a_response_keeps_its_numbers_json_text() -> None:
    # An object or array prints compactly: Higress prints the backend's own bytes (same JSON, maybe
    # other spacing), so this backend writes compact JSON to show the same text.
    body = decode_response(b'{"temp": 21.0, "rain": 0.50, "hits": [1,2.25], "big": 1e21}')
    assert render("{{.temp}}°/{{.rain}}/{{.hits}}/{{.big}}/{{add .temp 1}}", body) == "21.0°/0.50/[1,2.25]/1e21/22"


def test_uuid_and_now_are_rendered_afresh_each_time() -> None:
    template = Template("{{uuidv4}} {{now | date \"2006\"}} {{.config.unit}}", "header")
    first = template.render({"args": {}, "config": CONFIG})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} \d{4} C", first)
    assert template.render({"args": {}, "config": CONFIG}) != first  # not cached as a config-only template


def test_url_templates_encode_values_but_not_urlquery_output_or_config() -> None:
    url = UrlTemplate("{{.config.base}}/s/{{range .args.parts}}{{.}}/{{end}}?q={{.args.q | urlquery}}",
                      "url", CONFIG, set())
    assert url.render({"parts": ["a b", "c/d"], "q": "x y"}, CONFIG) == \
        "https://api.example.com/s/a%20b/c%2Fd/?q=x+y"


@pytest.mark.parametrize(("source", "construct"), [
    ("{{.users.0.name}}", "template syntax error in the template: unexpected"),  # Go lexes `.0` as a number
    ("{{.args.Content-Type}}", "template syntax error in the template: bad character '-'"),
    ("{{._headers.\\:status}}", "template syntax error"),
    ('{{gjson "{a:name.first,b:age}"}}', "the GJSON path '{a:name.first,b:age}' (multipaths"),
    ('{{gjson "[name.first,age]"}}', "multipaths"),
    ('{{gjson "children|@reverse"}}', "the `|` path separator"),
    ('{{gjson "name.@pretty"}}', "the modifier '@pretty'"),
    ('{{gjson .args.path}}', "gjson without a literal path string"),
    ("{{getRealIP}}", "the function getRealIP is not supported (the gateway does not pass the client's address"),
    ("{{getSocketIP}}", "the function getSocketIP is not supported"),
    ("{{regexMatch \"a\" .args.x}}", "the function regexMatch is not supported (mcpgw does not translate"),
    ("{{noSuchFunction .args.x}}", "template syntax error in the template: function 'noSuchFunction' not defined"),
    ('{{define "x"}}y{{end}}', "{{define}} is not supported"),
    ('{{template "x" .}}', "{{template}} is not supported"),
    ('{{block "x" .}}y{{end}}', "{{block}} is not supported"),
    ("{{if eq .args.x \"a\" \"b\"}}y{{end}}", "eq with more than 2 arguments is not supported (Higress reads"),
    ("{{index .args.m \"a\" \"b\"}}", "index with more than 2 arguments"),
    ("{{.args.x | printf \"%s-%s\" .args.y}}", "a value piped into printf with arguments of its own"),
    ("{{.args.x | print}}", "a value piped into print is not supported (Higress drops the piped value)"),
    ("{{.args.x | and .args.y}}", "a value piped into and with arguments of its own"),
    ("{{.args.x | eq .args.y .args.z}}", "a value piped into eq with arguments of its own"),
    ("{{.args.x | len .args.y}}", "a value piped into len with arguments of its own"),
    ("{{urlquery .args.x .args.y}}", "urlquery with more than 1 argument"),
    ("{{printf .args.format .args.x}}", "printf without a literal format string"),
    ('{{printf "%*d" 3 .args.x}}', "the printf verb %*"),
    ("{{.args.x | .args.y}}", "a value after `|` that is not a function"),
    ("{{.args.x .args.y}}", "arguments after a value that is not a function"),
    ("{{$x}}", "template syntax error in the template: undefined variable '$x'"),
    ("{{range .args.items}}{{end}}{{break}}", "template syntax error in the template: {{break}} outside {{range}}"),
    ("{{if .args.x}}", "template syntax error in the template: unexpected EOF in if"),
    ("{{end}}", "template syntax error in the template: unexpected {{end}}"),
    ("{{with .args.x}}x{{else if .args.y}}y{{end}}", "template syntax error in the template: expected end; found"),
])
def test_untranslatable_templates_are_refused_with_the_construct_named(source: str, construct: str) -> None:
    with pytest.raises(McpgwError) as refused:
        Template(source, "tools[0].requestTemplate.body")
    assert refused.value.message.startswith("tools[0].requestTemplate.body: ")
    assert construct in refused.value.message


def test_runtime_failures_fail_the_render_not_print_something_else() -> None:
    for source in ("{{index .args.items 5}}", "{{upper .args.n}}", "{{range .args.flag}}x{{end}}",
                   "{{div 1 0}}", "{{index .args.word 0}}",
                   "{{.args.missing | toJson}}"):  # a missing piped value is not passed: Go's arity error
        with pytest.raises(TemplateRuntimeError):
            render(source)
