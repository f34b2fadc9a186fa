"""What `mcpgw` exits with, by kind of failure, so a script can tell them apart.

    0  done
    1  refused: the API answered 4xx (the message names the field), or a file could not be read
    2  usage: the command line is wrong (argparse's own code, kept for our own checks too)
    3  not found: the API answered 404, or no resource has the name given
    4  unavailable: the admin API could not be reached, timed out or failed (5xx)
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

OK = 0
REFUSED = 1
USAGE = 2
NOT_FOUND = 3
UNAVAILABLE = 4
INTERRUPTED = 130


class CliError(Exception):
    """Printed as `error: <message>`; the process exits with `exit_code`."""

    exit_code = REFUSED


class UsageError(CliError):
    exit_code = USAGE


class NotFound(CliError):
    exit_code = NOT_FOUND


class Unavailable(CliError):
    exit_code = UNAVAILABLE
