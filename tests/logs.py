"""What the services logged as failures: they run in the test's process, so their logs are its logs
(pytest's `caplog`), and a traceback there is a bug even when the client got a clean answer."""

from __future__ import annotations

import logging

import pytest

_FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record at ERROR or above, or carrying a traceback, formatted with it."""
    return [_FORMAT.format(r) for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
