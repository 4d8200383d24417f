"""The pytest plugin (entry point `pytest11`): one cronbridge server per session, reset before each test using it.

Fixtures: `cronbridge` (the server, empty), `cronbridge_clock` (its manual clock), `cronbridge_client` (boto3
clients: `cronbridge_client("ecs")`), `cronbridge_env` (AWS_ENDPOINT_URL and keys set in os.environ for the test).
Settings: `--cronbridge-launcher` / ini `cronbridge_launcher` (process), ini `cronbridge_region` (us-east-1),
ini `cronbridge_auth` (enforce), ini `cronbridge_manual_clock` (true).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cronbridge.testing.server import CronbridgeServer, ManualClock


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cronbridge", "cronbridge server for the tests")
    group.addoption("--cronbridge-launcher", choices=["process", "docker", "auto"], default=None,
                    help="how the test server runs tasks (default: ini cronbridge_launcher, else process)")
    group.addoption("--cronbridge-endpoint", default=None, metavar="URL",
                    help="use this running server (started with --allow-reset and --manual-clock) instead of starting "
                    "one; sign with $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY")
    parser.addini("cronbridge_launcher", "how the test server runs tasks: process (default), docker or auto",
                  default="process")
    parser.addini("cronbridge_region", "the region clients and the environment name (default us-east-1)",
                  default="us-east-1")
    parser.addini("cronbridge_auth", "enforce (default: SigV4 and IAM checked) or open", default="enforce")
    parser.addini("cronbridge_manual_clock", "time moves only with cronbridge_clock.advance (default true)",
                  type="bool", default=True)


@pytest.fixture(scope="session")
def cronbridge_session_server(pytestconfig: pytest.Config,
                              tmp_path_factory: pytest.TempPathFactory) -> Iterator[CronbridgeServer]:
    """The session's server process (started on first use, stopped at the end), or --cronbridge-endpoint's."""
    endpoint = pytestconfig.getoption("cronbridge_endpoint")
    if endpoint:
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            pytest.fail("--cronbridge-endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the server's key)")
        yield CronbridgeServer.attach(endpoint, key, secret, str(pytestconfig.getini("cronbridge_region")),
                                      bool(pytestconfig.getini("cronbridge_manual_clock"))).start()
        return
    server = CronbridgeServer(
        data_dir=tmp_path_factory.mktemp("cronbridge"),
        launcher=pytestconfig.getoption("cronbridge_launcher") or pytestconfig.getini("cronbridge_launcher"),
        manual_clock=bool(pytestconfig.getini("cronbridge_manual_clock")),
        region=str(pytestconfig.getini("cronbridge_region")),
        auth=str(pytestconfig.getini("cronbridge_auth")),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cronbridge(cronbridge_session_server: CronbridgeServer) -> CronbridgeServer:
    """The server, with every resource of earlier tests wiped and their tasks stopped."""
    cronbridge_session_server.reset()
    return cronbridge_session_server


@pytest.fixture
def cronbridge_clock(cronbridge: CronbridgeServer) -> ManualClock:
    """The server's clock: `cronbridge_clock.advance(minutes=30)` fires what falls due on the way."""
    if not cronbridge.manual_clock:
        pytest.fail("cronbridge_clock needs the manual clock (ini cronbridge_manual_clock = true)")
    return cronbridge.clock


@pytest.fixture
def cronbridge_client(cronbridge: CronbridgeServer) -> Callable[..., Any]:
    """`cronbridge_client("ecs")`: a boto3 client signed with the server's administrator key."""
    return cronbridge.client


@pytest.fixture
def cronbridge_env(cronbridge: CronbridgeServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """AWS_ENDPOINT_URL, keys and region in os.environ for this test, so code under test that builds its own
    clients (boto3.client("ecs"), the AWS CLI) reaches the server; AWS_PROFILE and config files are kept out."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for name, value in cronbridge.env.items():
        monkeypatch.setenv(name, value)
    return cronbridge.env
