from __future__ import annotations

import os
import subprocess
import sys

import msgspec
import pytest

from mcpgw.runtime.settings import CommonSettings, SettingsError, load_settings


class Demo(CommonSettings, kw_only=True):
    port: int = 80
    ratio: float = 0.5
    enabled: bool = False
    names: list[str] = []


def test_service_variable_wins_over_cluster_wide_one() -> None:
    env = {"MCPGW_DEMO_NATS_URL": "nats://a:1", "MCPGW_NATS_URL": "nats://b:2", "MCPGW_PORT": "81",
           "MCPGW_DEMO_ENABLED": "true", "MCPGW_DEMO_NAMES": "x, y,,z", "MCPGW_DEMO_RATIO": "0.25"}
    settings = load_settings(Demo, "demo", env)
    assert msgspec.structs.asdict(settings) == {
        "nats_url": "nats://a:1", "subject_root": "mcpgw", "request_timeout": 5.0, "log_level": "INFO",
        "metrics_host": "127.0.0.1", "metrics_port": 0,
        "port": 81, "ratio": 0.25, "enabled": True, "names": ["x", "y", "z"]}


@pytest.mark.parametrize("var,value", [("MCPGW_DEMO_PORT", "eighty"), ("MCPGW_DEMO_ENABLED", "maybe"),
                                       ("MCPGW_RATIO", "half")])
def test_bad_value_names_the_variable(var: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(Demo, "demo", {var: value})
    assert var in str(err.value) and value in str(err.value)


@pytest.mark.parametrize("module", ["mcpgw_edge", "mcpgw_registry", "mcpgw_auth", "mcpgw_toolexec"])
def test_service_refuses_to_start_on_a_bad_setting(module: str) -> None:
    service = module.removeprefix("mcpgw_").upper()
    env = {**os.environ, f"MCPGW_{service}_REQUEST_TIMEOUT": "soon"}
    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert f"MCPGW_{service}_REQUEST_TIMEOUT='soon' is invalid" in done.stderr
    assert "Traceback" not in done.stderr
