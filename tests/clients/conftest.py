"""The clients of tests/clients, installed once per test session (see install.py)."""

from __future__ import annotations

import pytest

from tests.clients.install import Installed, install_all


@pytest.fixture(scope="session")
async def installed() -> Installed:
    """Every client; one whose install failed holds the exception (failing its tests, and only those)."""
    return await install_all()
