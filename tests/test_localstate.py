"""The local state `make up` keeps (`mcpgw.localstate`), and `make reset`, which wipes it after asking."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from mcpgw import localstate

ROOT = Path(__file__).resolve().parents[1]


def test_a_secret_is_made_once_for_its_owner_and_then_read(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    token, new = localstate.admin_token(directory)
    assert new and len(token) >= 40
    assert stat.S_IMODE((directory / "admin-token").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert localstate.admin_token(directory) == (token, False)
    key, new = localstate.demo_key(directory)
    assert new and key.startswith("mcpgw_demo_") and localstate.demo_key(directory) == (key, False)
    secret, new = localstate.demo_jwt_secret(directory)
    assert new and len(secret) >= 64 and localstate.demo_jwt_secret(directory) == (secret, False)
    assert stat.S_IMODE((directory / "demo-jwt.secret").stat().st_mode) == 0o600
    assert localstate.read_secret(directory / "nothing") is None


def test_a_writer_that_loses_the_race_takes_the_winners_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"

    def make() -> str:
        path.write_text("the winner's\n")  # another launcher got there between the read and the write
        return "mine"

    assert localstate.keep_secret(path, make) == ("the winner's", False)


def test_where_the_run_directory_is() -> None:
    assert localstate.find_checkout() == ROOT
    assert localstate.run_dir({}) == ROOT / ".run"
    assert localstate.run_dir({"MCPGW_RUN_DIR": "/srv/mcpgw"}) == Path("/srv/mcpgw")
    assert localstate.run_dir({}, Path("/elsewhere")) == Path("/elsewhere/.run")


def reset(run_dir: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "reset.sh"), *args], input=answer, capture_output=True,
                          text=True, timeout=30, check=False, env={**os.environ, "MCPGW_RUN_DIR": str(run_dir)})


def test_make_reset_asks_first(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    localstate.admin_token(run_dir)
    (run_dir / "nats").mkdir()

    for refusal in ("", "n\n", "whatever\n"):
        done = reset(run_dir, answer=refusal)
        assert done.returncode == 1 and "reset: nothing deleted" in done.stderr
        assert f"Delete {run_dir.resolve()}: the configuration" in done.stderr
        assert (run_dir / "admin-token").exists()

    done = reset(run_dir, answer="y\n")
    assert done.returncode == 0 and done.stdout == f"reset: deleted {run_dir.resolve()}\n"
    assert not run_dir.exists()
    done = reset(run_dir)
    assert done.returncode == 0 and "nothing to wipe" in done.stdout

    run_dir.mkdir()
    done = reset(run_dir, "-y")  # make reset ARGS=-y: no question
    assert done.returncode == 0 and not run_dir.exists() and "Delete" not in done.stderr
    assert reset(run_dir, "--bogus").returncode == 2


def test_make_reset_refuses_while_something_runs_from_there(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "nats").mkdir(parents=True)
    # A process whose command line names a path inside it, as make up's nats-server (-sd .run/nats) does.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(run_dir / "nats") + "/"]) as holder:
        try:
            done = reset(run_dir, "-y")
        finally:
            holder.kill()
    assert done.returncode == 1 and "is make up running? stop it first" in done.stderr
    assert run_dir.exists()
