"""Mapping templates, routing and log formats of the API Gateway data plane (no server needed)."""

from __future__ import annotations

import json

import pytest

from localcloud.apigateway import gateway, snapshots, vtl


def render(template: str, body: str = "", **params: dict[str, str]) -> str:
    context = {"requestId": "req-1", "stage": "test",
               "responseOverride": {"status": None, "header": {}}}
    namespace = vtl.namespace(body=body, params=params, context=context,
                              stage_variables={"color": "blue"})
    return vtl.render(template, namespace)


DOC = json.dumps({"name": "Ann", "tags": ["a", "b"], "nested": {"ok": True, "n": 2},
                  "text": "it's a \"quote\" / é\n"})


def test_input_json_is_compact_json_of_the_selected_value() -> None:
    assert render("$input.json('$.nested')", DOC) == '{"ok":true,"n":2}'
    assert render("$input.json('$.name')", DOC) == '"Ann"'
    assert json.loads(render("$input.json('$')", DOC)) == json.loads(DOC)


def test_input_path_returns_objects_usable_in_loops_and_sizes() -> None:
    template = ("#set($tags = $input.path('$.tags'))$tags.size():"
                "#foreach($t in $tags)[$t]#end:$input.path('$.nested.ok')")
    assert render(template, DOC) == "2:[a][b]:true"


def test_java_string_forms_of_maps_and_lists() -> None:
    assert render("$input.path('$.nested')", DOC) == "{ok=true, n=2}"
    assert render("$input.path('$.tags')", DOC) == '["a","b"]'


def test_null_and_undefined_references_render_empty() -> None:
    assert render("[$input.path('$.missing')][$nothing][${also.nothing}]", DOC) == "[][][]"


def test_set_foreach_and_single_quoted_literals_keep_velocity_semantics() -> None:
    assert render("#set($x = 'v')#foreach($i in [1, 2])$x$i#end") == "v1v2"
    assert render("#set($s = 'cost $x')$s|#set($t = \"is $stageVariables.color\")$t") == \
        "cost $x|is blue"


def test_params_are_looked_up_in_path_then_querystring_then_header() -> None:
    params = {"path": {"id": "p"}, "querystring": {"id": "q", "page": "2"},
              "header": {"X-Trace": "t"}}
    assert render("$input.params('id')/$input.params('page')/$input.params('x-trace')/"
                  "[$input.params('none')]", **params) == "p/2/t/[]"
    assert render("$input.params().querystring.page", **params) == "2"


def test_escape_javascript_follows_commons_lang() -> None:
    assert render("$util.escapeJavaScript($input.path('$.text'))", DOC) == \
        "it\\'s a \\\"quote\\\" \\/ \\u00E9\\n"


def test_escape_javascript_of_json_gives_a_json_string_body() -> None:
    rendered = render('{"Detail": "$util.escapeJavaScript($input.json(\'$.nested\'))"}', DOC)
    assert json.loads(json.loads(rendered)["Detail"]) == {"ok": True, "n": 2}


def test_util_functions() -> None:
    assert render("$util.urlEncode('a b&c~*')") == "a+b%26c%7E*"
    assert render("$util.urlDecode('a+b%26c')") == "a b&c"
    assert render("$util.base64Encode('hi there')") == "aGkgdGhlcmU="
    assert render("$util.base64Decode('aGkgdGhlcmU=')") == "hi there"
    assert render("$util.parseJson('{\"a\": [1, 2]}').a.size()") == "2"


def test_context_stage_variables_and_overrides() -> None:
    context = {"requestId": "r", "responseOverride": {"status": None, "header": {}}}
    namespace = vtl.namespace(body="", params={}, context=context,
                              stage_variables={"color": "blue"})
    out = vtl.render("#set($context.responseOverride.status = 418)$context.requestId "
                     "$stageVariables.color", namespace)
    assert out == "r blue"
    assert context["responseOverride"]["status"] == 418


def test_empty_body_is_an_empty_object() -> None:
    assert render("$input.body|$input.json('$')") == "{}|{}"


def test_non_json_body_read_as_json_is_a_client_error() -> None:
    with pytest.raises(vtl.BodyNotJson, match="Could not parse request body into json"):
        render("$input.json('$.a')", "not json")


class _Resource:
    def __init__(self, path_part: str, parent_id: str | None) -> None:
        self.path_part, self.parent_id = path_part, parent_id
        self.resource_methods: dict[str, object] = {}


def _snapshot(*paths: str) -> snapshots.ApiSnapshot:
    resources: dict[str, _Resource] = {"root": _Resource("/", None)}
    for path in paths:
        parent = "root"
        for part in [p for p in path.split("/") if p]:
            key = f"{parent}/{part}"
            resources.setdefault(key, _Resource(part, parent))
            parent = key
    return snapshots.ApiSnapshot(
        api_id="api", resources=resources, paths=snapshots._resource_paths(resources),
        models={}, request_validators={}, gateway_responses={})


@pytest.mark.parametrize(("request_path", "resource_path", "params"), [
    ("/", "/", {}),
    ("/files/special", "/files/special", {}),
    ("/files/a", "/files/{name}", {"name": "a"}),
    ("/files/a/b/c", "/files/{proxy+}", {"proxy": "a/b/c"}),
    ("/other/x", "/{any+}", {"any": "other/x"}),
])
def test_literal_beats_parameter_beats_greedy(request_path: str, resource_path: str,
                                              params: dict[str, str]) -> None:
    snap = _snapshot("/files/special", "/files/{name}", "/files/{proxy+}", "/{any+}")
    found = gateway.match_resource(snap, gateway._segments(request_path))
    assert found is not None
    assert snap.paths[found[0]] == resource_path
    assert found[1] == params


def test_greedy_parameter_needs_at_least_one_part() -> None:
    snap = _snapshot("/files/{proxy+}")
    found = gateway.match_resource(snap, ["files"])
    assert found is not None and snap.paths[found[0]] == "/files"
    assert gateway.match_resource(snap, ["elsewhere"]) is None


def test_throttle_limits_prefer_the_method_setting() -> None:
    settings = {"*/*": {"throttlingRateLimit": 10.0, "throttlingBurstLimit": 5},
                "~1items~1{id}/GET": {"throttlingRateLimit": 1.0, "throttlingBurstLimit": 1}}
    assert gateway.throttle_limits(settings, "/items/{id}", "GET") == (1.0, 1)
    assert gateway.throttle_limits(settings, "/items/{id}", "POST") == (10.0, 5)
    assert gateway.throttle_limits({}, "/", "GET") is None


def test_token_bucket_allows_the_burst_then_throttles() -> None:
    throttler = gateway.Throttler()
    key = ("a", "r", "api", "stage", "/", "GET")
    assert [throttler.allow(key, 0.001, 2) for _ in range(3)] == [True, True, False]


def test_access_log_format_substitutes_context_and_dashes_unknowns() -> None:
    context = {"requestId": "r-1", "status": 200, "identity": {"sourceIp": "127.0.0.1"},
               "error": {"message": None}}
    line = gateway.access_log_line(
        '{"id":"$context.requestId","ip":"$context.identity.sourceIp",'
        '"status":"$context.status","err":"$context.error.message","x":"$context.nope"}.',
        context)
    assert json.loads(line[:-1]) == {"id": "r-1", "ip": "127.0.0.1", "status": "200",
                                     "err": "-", "x": "-"}
