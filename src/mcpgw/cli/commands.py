"""The command groups of the parser (`servers`, `tools`, ...) and how a module adds a command to one."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from mcpgw.cli.client import Admin
from mcpgw.cli.output import Output

# What a command does: given the API, its parsed arguments and where to print.
Run = Callable[[Admin, argparse.Namespace, Output], Awaitable[None]]


class Commands:
    """The parser's command groups (`servers`, `tools`, ...); modules add commands to them."""

    def __init__(self, top: argparse.ArgumentParser) -> None:
        self._groups = top.add_subparsers(dest="group", required=True, metavar="<group>")
        self._commands: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
        # What every command takes after its name too: `mcpgw servers list --json`.
        self._common = argparse.ArgumentParser(add_help=False)
        self._common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                                  help="print the API's answer as one JSON document")
        self._common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                  help="list every name, not only the first ones")

    def group(self, name: str, help: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        if name not in self._commands:
            parser = self._groups.add_parser(name, help=help, description=help)
            self._commands[name] = parser.add_subparsers(dest="command", required=True, metavar="<command>")
        return self._commands[name]

    def single(self, name: str, run: Run, help: str) -> argparse.ArgumentParser:
        """A command of its own, `mcpgw <name>` (no group): `mcpgw stats <server>`."""
        parser = self._groups.add_parser(name, help=help, description=help, parents=[self._common])
        parser.set_defaults(run=run)
        return parser

    def add(self, group: str, name: str, run: Run, help: str) -> argparse.ArgumentParser:
        """A command `mcpgw <group> <name>` that runs `run`; its parser, for its own arguments."""
        parser = self._commands[group].add_parser(name, help=help, description=help, parents=[self._common])
        parser.set_defaults(run=run)
        return parser
