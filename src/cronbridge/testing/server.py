"""A `cronbridge server` child process on a free port for a test suite: clients, environment, reset, manual clock."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ACCESS_KEY_ID = "AKIACRONBRIDGETEST01"
SECRET_ACCESS_KEY = "cronbridge-test-secret"


class ServerError(RuntimeError):
    """The server could not start, or did not do what a helper waited for in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManualClock:
    """The server's clock when it runs with --manual-clock: time moves only when a test says so."""

    def __init__(self, server: CronbridgeServer) -> None:
        self.server = server

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self.server.health()["now"]), UTC)

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
        """Move the clock forward; every rule and schedule due on the way fires (a jump over several slots of one
        rule fires it once, as a catch-up). Returns the new time."""
        total = seconds + 60 * minutes + 3600 * hours + 86400 * days
        return self._move({"advance": total})

    def set(self, when: datetime | float) -> datetime:
        """Move the clock to an instant (a datetime, or epoch seconds)."""
        instant = when.timestamp() if isinstance(when, datetime) else float(when)
        return self._move({"to": instant})

    def _move(self, payload: dict[str, float]) -> datetime:
        return datetime.fromtimestamp(float(self.server.post("/_cronbridge/clock", payload)["now"]), UTC)


class CronbridgeServer:
    """`cronbridge server` in a child process: process launcher and manual clock by default, reset allowed, a fixed
    administrator key that `client()` and `env` use."""

    def __init__(
        self,
        data_dir: Path | None = None,
        launcher: str = "process",
        manual_clock: bool = True,
        region: str = "us-east-1",
        auth: str = "enforce",
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="cronbridge-test-")) if data_dir is None else data_dir
        self.launcher, self.manual_clock, self.region, self.auth = launcher, manual_clock, region, auth
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"
        self.access_key_id, self.secret_access_key = ACCESS_KEY_ID, SECRET_ACCESS_KEY
        self.clock = ManualClock(self)
        self.external: str | None = None  # the endpoint of a server this object did not start

    @property
    def endpoint(self) -> str:
        return self.external or f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What an AWS SDK or the AWS CLI in the test needs to talk to this server (and only to it)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "CRONBRIDGE_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def start(self) -> CronbridgeServer:
        if self.external:
            self.health()
            return self
        self.port = free_port()
        args = [sys.executable, "-m", "cronbridge", "server", "--port", str(self.port), "--data-dir",
                str(self.data_dir), "--launcher", self.launcher, "--auth", self.auth, "--allow-reset",
                *(["--manual-clock"] if self.manual_clock else []), *self.extra_args]
        env = {**os.environ, "CRONBRIDGE_ADMIN_ACCESS_KEY_ID": self.access_key_id,
               "CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY": self.secret_access_key}
        env.pop("CRONBRIDGE_CONFIG", None)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.data_dir)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise ServerError(f"cronbridge server exited at start:\n{self.log_path.read_text()[-4000:]}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"cronbridge server did not answer within {self.startup_timeout:g} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @classmethod
    def attach(cls, endpoint: str, access_key_id: str, secret_access_key: str, region: str = "us-east-1",
               manual_clock: bool = True) -> CronbridgeServer:
        """A server someone else started (with --allow-reset, and --manual-clock for the clock): start and stop
        leave it alone."""
        server = cls(data_dir=Path(tempfile.gettempdir()), region=region, manual_clock=manual_clock)
        server._own_dir = False
        server.external = endpoint.rstrip("/")
        server.access_key_id, server.secret_access_key = access_key_id, secret_access_key
        return server

    def __enter__(self) -> CronbridgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # talking to it ----------------------------------------------------------------
    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this server, signed with its administrator key."""
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint, "region_name": self.region,
            "aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key,
        }
        return boto3.client(service, **{**options, **kwargs})

    def get(self, path: str, **params: Any) -> Any:
        """GET one of the server's own endpoints (`/_cronbridge/...`), signed with the administrator key: they are
        authorized like AWS calls (`cronbridge:*` actions)."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        with urllib.request.urlopen(self._signed("GET", path + (f"?{query}" if query else "")),
                                    timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST to one of the server's own endpoints, signed as `get` is."""
        request = self._signed("POST", path, json.dumps(payload or {}).encode())
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise ServerError(f"POST {path}: {err.code} {err.read().decode(errors='replace')}") from None

    def _signed(self, method: str, path: str, body: bytes | None = None) -> urllib.request.Request:
        """A request SigV4-signed for the service `cronbridge` with this server's administrator key."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        url = self.endpoint + path
        signed = AWSRequest(method=method, url=url, data=body or b"", headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), "cronbridge", self.region).add_auth(signed)
        return urllib.request.Request(url, data=body, method=method, headers=dict(signed.headers.items()))

    def health(self) -> dict[str, Any]:
        return dict(self.get("/_cronbridge/health"))

    def reset(self) -> None:
        """Wipe every resource and stop every task (the clock stays where it is)."""
        self.post("/_cronbridge/reset")

    # waiting for what the scheduler does ------------------------------------------
    def invocations(self, rule: str, group: str | None = None) -> list[dict[str, Any]]:
        """A rule's (or, with `group`, a schedule's) invocations, newest first, as GET /_cronbridge/invocations (in
        the clients' Region, which signs the request: rules and schedules are per Region)."""
        params = {"schedule": rule, "group": group} if group else {"rule": rule}
        return list(self.get("/_cronbridge/invocations", **params)["invocations"])

    def wait_for_invocations(self, rule: str, count: int = 1, group: str | None = None,
                             timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until the rule has `count` finished invocations (none PENDING); newest first."""
        def finished() -> list[dict[str, Any]] | None:
            found = self.invocations(rule, group)
            done = [i for i in found if i["outcome"] != "PENDING"]
            return found if len(done) >= count and len(done) == len(found) else None

        return wait(finished, timeout, f"{count} finished invocation(s) of {rule}")

    def wait_for_tasks(self, task_arns: list[str], timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until every task is STOPPED; their DescribeTasks descriptions."""
        ecs = self.client("ecs")

        def stopped() -> list[dict[str, Any]] | None:
            tasks = []
            for arn in task_arns:
                cluster = arn.split(":task/", 1)[1].split("/", 1)[0]
                tasks.extend(ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"])
            return tasks if tasks and all(t["lastStatus"] == "STOPPED" for t in tasks) else None

        return wait(stopped, timeout, f"tasks {task_arns} to stop")


def wait(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `check` until it returns something, or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise ServerError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def running_server(**options: Any) -> Iterator[CronbridgeServer]:
    """A server for the length of a `with` block (for unittest or scripts); options as CronbridgeServer's."""
    server = CronbridgeServer(**options).start()
    try:
        yield server
    finally:
        server.stop()
