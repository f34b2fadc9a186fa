"""What `make up` keeps on this machine between runs, and where: the `.run/` directory.

`.run/` (or `MCPGW_RUN_DIR`) holds the launcher's NATS store and Redis data, the admin API's token
(`admin-token`), the demo consumer's API key (`demo-user.key`) and the demo JWT consumer's HS256
secret (`demo-jwt.secret`). The launcher writes them; the
`mcpgw` CLI reads the token from here when `MCPGW_ADMIN_TOKEN` is not set, so both agree without the
token being exported or printed. Secrets are created once, readable by their owner only (0600 in a
0700 directory), and never rewritten: a restart finds the same token, key and JWT secret. `make reset` wipes it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

RUN_DIR_VARIABLE = "MCPGW_RUN_DIR"
ADMIN_TOKEN_FILE = "admin-token"
DEMO_KEY_FILE = "demo-user.key"
DEMO_JWT_SECRET_FILE = "demo-jwt.secret"


def find_checkout() -> Path | None:
    """The mcpgw checkout: beside this package in an editable install, else the working directory
    when it is one; None when neither holds `demo/backend.py`."""
    here = Path(__file__).resolve().parents[2]
    for candidate in (here, Path.cwd()):
        if (candidate / "demo" / "backend.py").is_file():
            return candidate
    return None


def run_dir(env: Mapping[str, str] = os.environ, checkout: Path | None = None) -> Path:
    """`MCPGW_RUN_DIR` when set, else `.run` in the checkout (or in the working directory)."""
    given = env.get(RUN_DIR_VARIABLE, "").strip()
    if given:
        return Path(given).expanduser()
    return (checkout or find_checkout() or Path.cwd()) / ".run"


def read_secret(path: Path) -> str | None:
    """The secret kept in `path`, or None when there is none yet."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def keep_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret in `path`, made with `make()` and written (owner-only) when absent: (secret, whether
    it is new). Two launchers racing agree on one: O_EXCL lets one writer win, the other reads."""
    existing = read_secret(path)
    if existing is not None:
        return existing, False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raced = read_secret(path)
        if raced is None:
            raise
        return raced, False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(value + "\n")
    # Also when an older file was created with a wider umask: the directory shows who may list it.
    with contextlib.suppress(OSError):
        path.parent.chmod(0o700)
    return value, True


def admin_token(directory: Path) -> tuple[str, bool]:
    """The admin API's token kept in `directory`, created on first use: (token, whether it is new)."""
    return keep_secret(directory / ADMIN_TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def demo_key(directory: Path) -> tuple[str, bool]:
    """The demo consumer's API key kept in `directory` (the registry stores only its digest, so the
    launcher keeps the plaintext to show it again): (key, whether it is new)."""
    return keep_secret(directory / DEMO_KEY_FILE, lambda: "mcpgw_demo_" + secrets.token_urlsafe(24))


def demo_jwt_secret(directory: Path) -> tuple[str, bool]:
    """The demo JWT consumer's HS256 shared secret kept in `directory`: the registry reads a shared
    secret back masked, so the launcher keeps it to sign the banner's token, and a token signed on an
    earlier run stays valid until it expires. (secret, whether it is new)."""
    return keep_secret(directory / DEMO_JWT_SECRET_FILE, lambda: secrets.token_urlsafe(48))
