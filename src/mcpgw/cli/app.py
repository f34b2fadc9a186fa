"""The command line: global options, the command groups each resource module fills, and `main`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence

import aiohttp

from mcpgw import localstate
from mcpgw.cli import (
    consumers,
    credentials,
    deploys,
    domains,
    grants,
    hosting,
    servers,
    services,
    stats,
    tool_edits,
    tools,
)
from mcpgw.cli.client import DEFAULT_ADMIN_URL, Admin
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import INTERRUPTED, OK, CliError
from mcpgw.cli.output import Output

# Each module adds its commands; a new resource is one module more, and one line here.
REGISTER: tuple[Callable[[Commands], None], ...] = (
    servers.register, hosting.register, tools.register, tool_edits.register, consumers.register, grants.register,
    services.register, credentials.register, stats.register, domains.register, deploys.register)

EPILOG = f"""\
The admin API is MCPGW_ADMIN_URL (default {DEFAULT_ADMIN_URL}). Its token is MCPGW_ADMIN_TOKEN, else the one
`make up` keeps in .run/admin-token (MCPGW_RUN_DIR moves .run). <server>, <consumer> and <service>
are a name or an id. Exit codes: 0 done, 1 refused by the API (its message names the field),
2 usage, 3 not found, 4 the admin API unreachable or failing."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mcpgw", description="The mcpgw admin API from a shell.", epilog=EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--admin-url", default=os.environ.get("MCPGW_ADMIN_URL") or DEFAULT_ADMIN_URL,
                     help="admin API base URL (env MCPGW_ADMIN_URL; default %(default)s)")
    top.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default %(default)s)")
    top.add_argument("--json", action="store_true", help="print the API's answer as one JSON document")
    top.add_argument("-v", "--verbose", action="store_true", help="list every name, not only the first ones")
    commands = Commands(top)
    for register in REGISTER:
        register(commands)
    return top


def admin_token() -> str | None:
    """MCPGW_ADMIN_TOKEN, else the token `make up` keeps in the run directory, if any."""
    token = os.environ.get("MCPGW_ADMIN_TOKEN")
    if token:
        return token
    try:
        return localstate.read_secret(localstate.run_dir() / localstate.ADMIN_TOKEN_FILE)
    except OSError as exc:
        raise CliError(f"cannot read the admin token kept in {localstate.run_dir()}: {exc.strerror or exc}; "
                       "set MCPGW_ADMIN_TOKEN") from None


async def _run(args: argparse.Namespace) -> None:
    headers = {"User-Agent": "mcpgw-cli"}
    token = admin_token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = aiohttp.ClientTimeout(total=args.timeout, connect=min(args.timeout, 10.0))
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        await args.run(Admin(http, args.admin_url), args, Output(as_json=args.json, verbose=args.verbose))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on a usage error
    try:
        asyncio.run(_run(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # `mcpgw servers list | head -1`: the reader left; stdout goes nowhere from here on.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return OK
