"""`mcpgw` as its own process against a test cluster's admin API, as a script would run it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cluster import ADMIN_TOKEN, Cluster

TIMEOUT = 60.0


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as exactly one JSON document (anything else on stdout fails the test)."""
        assert self.code == 0, self.err
        return json.loads(self.out)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def fields(self) -> dict[str, str]:
        """A `get` command's `Name  value` lines; a value's further lines (indented) joined with newlines."""
        found: dict[str, str] = {}
        name = ""
        for line in self.lines:
            if line.startswith(" ") and name:
                found[name] += "\n" + line.strip()
                continue
            name, value = [*re.split(r"\s{2,}", line, maxsplit=1), ""][:2]
            found[name] = value
        return found


async def mcpgw(cluster: Cluster, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
                run_dir: Path | None = None) -> Ran:
    """`python -m mcpgw.cli ARGS` with the cluster's admin URL and token in its environment; `run_dir`
    (MCPGW_RUN_DIR) keeps it from reading the checkout's own `.run/admin-token`."""
    base = {**os.environ, "MCPGW_ADMIN_URL": cluster.admin_url, "MCPGW_ADMIN_TOKEN": ADMIN_TOKEN,
            "MCPGW_RUN_DIR": str(run_dir or Path(os.devnull)), "COLUMNS": "200"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcpgw.cli", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**base, **(env or {})})
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"mcpgw {' '.join(args)} did not finish in {TIMEOUT:g}s") from None
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
