"""Tool and argument names: sanitised, at most 64 characters, unique, stable, order-independent."""

from __future__ import annotations

import re

from mcpgw_registry.importing.openapi import naming

from tests.registry.importing.openapi.build import op, openapi, run

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_operation_ids_are_sanitised() -> None:
    names = naming.tool_names([("get", "/orgs/{org}/repos", "repos/list-for-org"),
                               ("get", "/addons/{key}", "AddonPropertiesResource.getAddonProperties_get"),
                               ("get", "/x", "  spaced  id ")])
    assert names == ["repos_list-for-org", "AddonPropertiesResource_getAddonProperties_get", "spaced_id"]


def test_long_names_are_cut_with_a_stable_hash() -> None:
    long_id = "oauth-authorizations/get-or-create-authorization-for-app-and-fingerprint"  # GitHub, 72 chars
    first = naming.tool_names([("put", "/authorizations/clients/{client_id}/{fingerprint}", long_id)])[0]
    again = naming.tool_names([("get", "/other", "other"),
                               ("put", "/authorizations/clients/{client_id}/{fingerprint}", long_id)])[1]
    assert first == again and len(first) <= 64 and NAME.match(first)
    assert first.startswith("oauth-authorizations_get-or-create-authorization-for-ap")
    assert re.search(r"_[0-9a-f]{8}$", first)


def test_duplicates_all_get_a_hash_of_method_and_path() -> None:
    ops: list[tuple[str, str, str | None]] = [
        ("get", "/api/", "getAPIResources"), ("get", "/apis/apps/v1/", "getAPIResources"),
        ("get", "/apis/batch/v1/", "getAPIResources"), ("get", "/version/", "getCode")]
    names = naming.tool_names(ops)
    assert len(set(names)) == 4 and names[3] == "getCode"
    assert all(re.fullmatch(r"getAPIResources_[0-9a-f]{6}", n) for n in names[:3])
    assert naming.tool_names(list(reversed(ops))) == list(reversed(names))


def test_names_from_method_and_path_without_operation_id() -> None:
    assert naming.tool_names([("get", "/pets/{petId}/photos", None), ("post", "/chat.postMessage", ""),
                              ("get", "/2010-04-01/Accounts/{AccountSid}.json", None)]) == [
        "get_pets_by_petId_photos", "post_chat_postMessage", "get_2010-04-01_Accounts_by_AccountSid_json"]


def test_a_hashed_name_never_collides_with_a_plain_one() -> None:
    ops: list[tuple[str, str, str | None]] = [("get", "/a", "x"), ("get", "/b", "x")]
    clash = naming.tool_names(ops)
    names = naming.tool_names([*ops, ("get", "/c", clash[0])])
    assert len(set(names)) == 3


def test_argument_names() -> None:
    assert naming.arg_name("StartTime<") == "StartTime_lt"
    assert naming.arg_name("StartTime>=") == "StartTime_gte"
    assert naming.arg_name("ids[]") == "ids"
    assert naming.arg_name("odd name!") == "odd_name"
    long = naming.arg_name("x" * 100)
    assert len(long) == 64 and long == naming.arg_name("x" * 100)


def test_names_in_a_converted_document() -> None:
    raw = openapi({"/a/b.c": op(), "/a/{id}": op("delete", operationId="x" * 80),
                   "/dup1": op(operationId="same"), "/dup2": op(operationId="same")})
    names = [t.name for t in run(raw).document.tools]
    assert all(NAME.match(n) for n in names) and len(set(names)) == 4
    assert names[0] == "get_a_b_c"
    assert [t.source.operation_id for t in run(raw).document.tools if t.source][1] == "x" * 80
