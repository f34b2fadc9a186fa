"""House rules that keep the cluster replaceable piece by piece."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"edge": "mcpgw_edge", "auth": "mcpgw_auth", "registry": "mcpgw_registry", "toolexec": "mcpgw_toolexec",
            "hosting": "mcpgw_hosting"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_services_import_only_the_shared_package_never_each_other(service: str) -> None:
    package = ROOT / "services" / service / SERVICES[service]
    files = sorted(package.rglob("*.py"))
    assert files, f"no sources found for {service}"
    others = set(SERVICES.values()) - {SERVICES[service]}
    for path in files:
        bad = _imported_modules(path) & (others | {"tests"})
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_shared_package_imports_no_service() -> None:
    for path in sorted((ROOT / "src" / "mcpgw").rglob("*.py")):
        bad = _imported_modules(path) & set(SERVICES.values())
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_runs_as_a_module(service: str) -> None:
    assert (ROOT / "services" / service / SERVICES[service] / "__main__.py").exists()


HTTP_SERVER_LIBRARIES = {"aiohttp", "granian", "uvicorn", "starlette", "httptools"}


def test_only_the_edges_server_adapter_imports_an_http_server_library() -> None:
    """The transport seam: protocol code speaks mcpgw_edge.http; one adapter package speaks the server."""
    package = ROOT / "services" / "edge" / "mcpgw_edge"
    adapters = package / "server"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if adapters in path.parents:
            continue
        bad = _imported_modules(path) & HTTP_SERVER_LIBRARIES
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, offenders
