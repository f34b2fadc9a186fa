"""How answers are shown: tables and field lists for people (rich), one JSON document for scripts.

`--json` prints the API's `data` unchanged, on one line, and nothing else on stdout. Tables have a
header row and columns separated by spaces, no borders, so `awk` can read them too; on a terminal
rich fits them to its width, elsewhere lines are never wrapped or cut. Long lists of names are cut
to their first `FIRST` with a count (`--verbose` shows all): an import of 800 operations stays
readable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.table import Table

FIRST = 10
# Width when stdout is no terminal: wide enough that no line is ever wrapped.
UNWRAPPED = 100_000


class Output:
    def __init__(self, *, as_json: bool = False, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._console: Console | None = None

    def json(self, data: Any) -> None:
        self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")

    def text(self, text: str) -> None:
        self.stream.write(text if text.endswith("\n") else text + "\n")

    def done(self, data: Any, text: str) -> None:
        """A command's one result: `data` as JSON with --json, else `text` for people."""
        if self.as_json:
            self.json(data)
        else:
            self.text(text)

    def listing(self, items: list[Any], headers: Sequence[str], row: Callable[[Any], Sequence[str]], *,
                empty: str) -> None:
        """A list command's result: the items as JSON with --json, else one table row per item."""
        if self.as_json:
            self.json(items)
        else:
            self.table(headers, [row(item) for item in items], empty=empty)

    def note(self, text: str) -> None:
        """A remark for people (an empty list, a next step) on stderr: stdout stays data."""
        print(text, file=sys.stderr)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str) -> None:
        rows = list(rows)
        if not rows:
            self.note(empty)
            return
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self._render(table)

    def fields(self, pairs: Iterable[tuple[str, str]]) -> None:
        """`name  value` lines, values aligned; pairs with an empty value are left out."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for name, value in pairs:
            if value:
                grid.add_row(name, value)
        self._render(grid)

    def names(self, names: Sequence[str], *, separator: str = ", ") -> str:
        """The names, or the first `FIRST` and how many more unless `--verbose`."""
        if self.verbose or len(names) <= FIRST:
            return separator.join(names)
        return f"{separator.join(names[:FIRST])}{separator}… {len(names) - FIRST} more (--verbose lists all)"

    def lines(self, lines: Sequence[str], indent: str) -> list[str]:
        """`lines` indented, cut like `names`."""
        if self.verbose or len(lines) <= FIRST:
            return [indent + line for line in lines]
        more = f"{indent}… {len(lines) - FIRST} more (--verbose lists all)"
        return [*(indent + line for line in lines[:FIRST]), more]

    def _render(self, renderable: RenderableType) -> None:
        console = self._get_console()
        if console.is_terminal:
            console.print(renderable)
            return
        with console.capture() as captured:
            console.print(renderable)
        # Padding up to the column width is noise in a file or a pipe.
        self.stream.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))

    def _get_console(self) -> Console:
        if self._console is None:
            # markup off: names and descriptions are data, "[x]" in them must stay as it is.
            console = Console(file=self.stream, markup=False, highlight=False, emoji=False, soft_wrap=False)
            if not console.is_terminal:
                console = Console(file=self.stream, markup=False, highlight=False, emoji=False, soft_wrap=False,
                                  width=UNWRAPPED)
            self._console = console
        return self._console


def on_off(value: Any) -> str:
    return "on" if value else "off"


def when(ms: Any) -> str:
    """A timestamp of the API (ms since the epoch) in UTC, to the second."""
    if not isinstance(ms, int) or ms <= 0:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
