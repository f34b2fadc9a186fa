"""Where `mcpgw` finds the admin token: MCPGW_ADMIN_TOKEN, else the file `make up` keeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mcpgw import localstate
from tests.cli.run import mcpgw
from tests.cluster import ADMIN_TOKEN, Cluster


async def test_the_token_make_up_keeps_is_read_when_none_is_exported(cluster: Cluster, tmp_path: Path) -> None:
    kept, empty = tmp_path / "kept", tmp_path / "empty"
    localstate.keep_secret(kept / localstate.ADMIN_TOKEN_FILE, lambda: ADMIN_TOKEN)
    from_file, exported_wins, none = await asyncio.gather(
        mcpgw(cluster, "servers", "list", "--json", run_dir=kept, env={"MCPGW_ADMIN_TOKEN": ""}),
        mcpgw(cluster, "servers", "list", run_dir=kept, env={"MCPGW_ADMIN_TOKEN": "not-the-token"}),
        mcpgw(cluster, "servers", "list", run_dir=empty, env={"MCPGW_ADMIN_TOKEN": ""}))
    assert from_file.json() == []
    assert exported_wins.code == 1 and "Unauthorized (401)" in exported_wins.err
    assert none.code == 1 and "make up keeps it in .run/admin-token" in none.err
