"""The console over plain HTTP against a real server: sign-in, session cookie, CSRF, pages, pagination, actions."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from cronbridge.clock import FakeClock
from cronbridge.web.auth import check_key, refusal_for
from fixtures.seed import RULE, create_seed, credentials


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Answer:
    status: int
    body: str
    headers: Any


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (so tests see them)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.endpoint + path))

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.endpoint + path, data=data, method="POST"))

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.read().decode(), response.headers)
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read().decode(), err.headers)

    def csrf(self, path: str = "/console/signin") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(path).body)
        assert found, "the page has no CSRF field"
        return found.group(1)

    def sign_in(self, key: str, secret: str) -> Answer:
        fields = {"csrf": self.csrf(), "access_key_id": key, "secret_access_key": secret, "next": "/console/tasks"}
        return self.post("/console/signin", fields)


@pytest.fixture
def browser(cronbridge_server: Any) -> Browser:
    return Browser(cronbridge_server.endpoint)


@pytest.fixture
def signed_in(browser: Browser, cronbridge_server: Any) -> Browser:
    assert browser.sign_in(*credentials(cronbridge_server)).status == 303
    return browser


def test_the_console_lives_at_slash_console(browser: Browser) -> None:
    bare = browser.get("/console")
    assert (bare.status, bare.headers["location"]) == (307, "/console/")
    home = browser.get("/console/")
    assert (home.status, home.headers["location"]) == (303, "/console/schedules")


def test_pages_send_strangers_to_the_sign_in_page_and_back(browser: Browser, cronbridge_server: Any) -> None:
    refused = browser.get("/console/rules/hello?range=7d")
    assert refused.status == 303
    assert refused.headers["location"] == "/console/signin?next=/console/rules/hello%3Frange%3D7d"
    signed = browser.sign_in(*credentials(cronbridge_server))
    assert (signed.status, signed.headers["location"]) == (303, "/console/tasks")
    cookie = signed.headers["set-cookie"]
    assert "cronbridge_console=" in cookie and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert browser.get("/console/tasks").status == 200


def test_an_action_without_a_session_leads_to_the_sign_in_page_not_a_replay(browser: Browser) -> None:
    refused = browser.post("/console/rules/hello/disable", {"csrf": "x"})
    assert (refused.status, refused.headers["location"]) == (303, "/console/signin?next=/console/schedules")


def test_sign_in_needs_the_form_token_and_both_halves_of_the_key(browser: Browser) -> None:
    no_token = browser.post("/console/signin", {"access_key_id": "AK", "secret_access_key": "s"})
    assert no_token.status == 403
    no_secret = browser.sign_in("AKIDTEST", "")
    assert no_secret.status == 200 and "Enter an access key ID and its secret access key." in no_secret.body


def test_actions_need_the_session_csrf_token(signed_in: Browser, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    events = cronbridge_server.client("events", region="ap-northeast-1")
    assert signed_in.get("/console/schedules?region=ap-northeast-1").status == 200  # the seed's Region, chosen
    forged = signed_in.post(f"/console/rules/{RULE}/disable", {"csrf": "forged"})
    assert forged.status == 403 and events.describe_rule(Name=RULE)["State"] == "ENABLED"
    token = signed_in.csrf("/console/schedules")
    done = signed_in.post(f"/console/rules/{RULE}/disable", {"csrf": token, "back": "/console/schedules"})
    assert (done.status, done.headers["location"]) == (303, "/console/schedules")
    assert events.describe_rule(Name=RULE)["State"] == "DISABLED"
    assert "hello is now DISABLED." in signed_in.get("/console/schedules").body


def test_signing_out_ends_the_session(signed_in: Browser) -> None:
    token = signed_in.csrf("/console/tasks")
    assert signed_in.post("/console/signout", {"csrf": token}).status == 303
    assert signed_in.get("/console/tasks").status == 303


def test_the_schedules_page_is_paginated_by_name(signed_in: Browser, cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    for i in range(60):
        events.put_rule(Name=f"rule-{i:03d}", ScheduleExpression="rate(5 minutes)")
    first = signed_in.get("/console/schedules").body
    assert first.count('data-rule="') == 50 and 'data-rule="rule-049"' in first
    following = re.search(r'rel="next" href="([^"]+)"', first)
    assert following is not None
    second = signed_in.get(following.group(1).replace("&amp;", "&")).body
    assert second.count('data-rule="') == 10 and 'data-rule="rule-050"' in second and 'rel="next"' not in second
    assert "every 5 minutes" in second


def test_unknown_things_are_404_pages_not_errors(signed_in: Browser) -> None:
    for path in (
        "/console/rules/nope",
        "/console/invocations/999",
        "/console/logs/group?name=/nope",
        "/console/logs/stream?group=/nope&stream=x",
        "/console/taskdefs/nope/1",
    ):
        answer = signed_in.get(path)
        assert answer.status == 404 and "Not found" in answer.body, path


def test_a_task_no_longer_recorded_says_so_and_how_long_tasks_are_kept(signed_in: Browser) -> None:
    answer = signed_in.get("/console/tasks/c/0123")
    assert answer.status == 200 and "This task is no longer recorded" in answer.body
    assert "kept for 7 day(s)" in answer.body


def test_a_bad_filter_pattern_is_shown_not_a_server_error(signed_in: Browser, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    answer = signed_in.get(
        "/console/logs/group?"
        + urllib.parse.urlencode(
            {"name": "/ecs/fargate-task-definition", "filter": '{ $.level = "x"', "region": "ap-northeast-1"}
        )
    )
    assert answer.status == 200 and "InvalidParameterException" in answer.body


def test_the_console_shows_one_region_at_a_time_and_keeps_the_one_chosen(
    signed_in: Browser, cronbridge_server: Any
) -> None:
    cronbridge_server.client("events").put_rule(Name="east", ScheduleExpression="rate(5 minutes)")
    cronbridge_server.client("events", region="eu-west-1").put_rule(Name="west", ScheduleExpression="rate(5 minutes)")
    home = signed_in.get("/console/schedules").body  # the server's own Region until one is chosen
    assert 'data-rule="east"' in home and 'data-rule="west"' not in home
    assert "<option>eu-west-1</option>" in home and "<option selected>us-east-1</option>" in home
    west = signed_in.get("/console/schedules?region=eu-west-1").body
    assert 'data-rule="west"' in west and 'data-rule="east"' not in west
    assert 'data-rule="west"' in signed_in.get("/console/schedules").body  # kept for the session


class Keys:
    """An identity store as the console asks it: a key's record, by id."""

    def __init__(self, **records: Any) -> None:
        self.records = records

    def lookup_key(self, key_id: str) -> Any:
        return self.records.get(key_id)


def system_with(identity: Any, auth: str = "enforce") -> Any:
    return SimpleNamespace(identity=identity, settings=SimpleNamespace(auth=auth), clock=FakeClock(1000.0))


def test_with_an_identity_store_only_its_active_unexpired_keys_sign_in() -> None:
    keys = Keys(
        AKIAGOOD=SimpleNamespace(secret_access_key="right", active=True, expires_at=None),
        AKIAOFF=SimpleNamespace(secret_access_key="right", active=False, expires_at=None),
        ASIAOLD=SimpleNamespace(secret_access_key="right", active=True, expires_at=999.0),
    )
    system = system_with(keys)
    assert check_key(system, "AKIAGOOD", "right") is None
    assert check_key(system, "AKIAGOOD", "wrong") == "The access key ID or the secret access key is not valid."
    assert check_key(system, "AKIANONE", "right") == "The access key ID or the secret access key is not valid."
    assert check_key(system, "AKIAOFF", "right") == "This access key is inactive."
    assert check_key(system, "ASIAOLD", "right") == "These temporary credentials have expired."


def test_in_open_mode_any_key_signs_in() -> None:
    assert check_key(system_with(Keys(), auth="open"), "AKIAANY", "anything") is None


class Refusing:
    """An authorizer as the console asks it: the refusal message for the first resource not allowed."""

    enforcing = True

    def __init__(self, allowed: set[tuple[str, str]]) -> None:
        self.allowed = allowed
        self.asked: list[tuple[str, str, str]] = []

    def first_refusal(self, principal: Any, action: str, resources: list[str], context: dict[str, Any]) -> str | None:
        for resource in resources:
            self.asked.append((principal.arn, action, resource))
            if (action, resource) not in self.allowed:
                return f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
        return None


class Principals:
    def principal_of_key(self, key_id: str) -> Any:
        return SimpleNamespace(arn=f"arn:aws:iam::000000000000:user/{key_id}") if key_id == "AKIANARROW" else None


def test_console_actions_are_authorized_as_the_signed_in_principal_when_iam_is_enforced() -> None:
    rule = "arn:aws:events:us-east-1:000000000000:rule/hello"
    authorizer = Refusing({("events:DisableRule", rule)})
    system = SimpleNamespace(identity=Principals(), authorizer=authorizer)
    assert refusal_for(system, "AKIANARROW", "events:DisableRule", [rule]) is None
    assert refusal_for(system, "AKIANARROW", "events:EnableRule", [rule]) == (
        f"User: arn:aws:iam::000000000000:user/AKIANARROW is not authorized to perform: events:EnableRule"
        f" on resource: {rule}"
    )
    assert refusal_for(system, "AKIAGONE", "events:EnableRule", [rule]) == (
        "The signed-in access key is no longer valid; sign in again."
    )
    authorizer.enforcing = False  # open mode: the console does what it is asked
    assert refusal_for(system, "AKIANARROW", "events:EnableRule", [rule]) is None


def test_the_stream_viewer_pages_back_to_older_events(signed_in: Browser, cronbridge_server: Any) -> None:
    logs = cronbridge_server.client("logs")
    logs.create_log_group(logGroupName="/big")
    logs.create_log_stream(logGroupName="/big", logStreamName="s")
    now = int(time.time() * 1000)
    events = [{"timestamp": now - 10_000 + i, "message": f"line {i:04d}"} for i in range(700)]
    logs.put_log_events(logGroupName="/big", logStreamName="s", logEvents=events)
    newest = signed_in.get("/console/logs/stream?group=/big&stream=s").body
    assert "line 0699" in newest and "line 0200" in newest and "line 0199" not in newest
    older = re.search(r'rel="prev" href="([^"]+)"', newest)
    assert older is not None
    page = signed_in.get(older.group(1).replace("&amp;", "&")).body
    assert "line 0000" in page and "line 0199" in page and "line 0200" not in page
    assert 'data-live="0"' in page and "Newest events" in page


def test_the_task_definition_page_finds_the_rules_that_target_its_family(
    signed_in: Browser, cronbridge_server: Any
) -> None:
    from fixtures.seed import put_target

    made = create_seed(cronbridge_server)  # rule hello targets revision 1 by its ARN
    ecs = cronbridge_server.client("ecs", region="ap-northeast-1")
    events = cronbridge_server.client("events", region="ap-northeast-1")
    definition = ecs.describe_task_definition(taskDefinition=made["task_definition"])["taskDefinition"]
    keep = ("family", "networkMode", "cpu", "memory", "requiresCompatibilities", "containerDefinitions",
            "executionRoleArn")
    ecs.register_task_definition(**{k: definition[k] for k in keep})  # revision 2
    family_arn = made["task_definition"].rsplit(":", 1)[0]
    for name, reference in (("by-family", family_arn), ("by-name", "ecs-scheduled-batch-task:2")):
        events.put_rule(Name=name, ScheduleExpression="rate(1 day)")
        put_target(events, name, made["cluster"], reference, "arn:aws:iam::000000000000:role/x")
    shown = signed_in.get("/console/taskdefs/ecs-scheduled-batch-task/2?region=ap-northeast-1").body  # the seed's
    rows = dict(re.findall(r'<tr data-name="([^"]+)">(.*?)</tr>', shown, re.S))
    assert set(rows) == {"hello", "by-family", "by-name"}
    assert "revision 1" in rows["hello"] and rows["hello"].rstrip().endswith("<td>no</td>")
    assert "the latest ACTIVE revision, 2" in rows["by-family"] and rows["by-family"].endswith("<td>yes</td>")
    assert "revision 2" in rows["by-name"] and rows["by-name"].endswith("<td>yes</td>")


def test_a_failed_task_looks_failed_with_its_exit_code_and_a_short_reason(
    signed_in: Browser, cronbridge_server: Any
) -> None:
    from fixtures.seed import rule_running

    create_seed(cronbridge_server)
    rule_running(cronbridge_server, "exits3", ["sh", "-c", "exit 3"])
    ran = cronbridge_server.post("/_cronbridge/rules/exits3/run-now", region="ap-northeast-1")  # the seed's Region
    from fixtures.ecs import wait_stopped

    wait_stopped(cronbridge_server.client("ecs", region="ap-northeast-1"), "ecs-scheduled-batch", ran["taskArns"][0])
    listed = signed_in.get("/console/tasks?region=ap-northeast-1").body
    row = re.search(r'<tr class="failed">(.*?)</tr>', listed, re.S)
    assert row is not None and "FAILED (exit 3)" in row.group(1)
    task_id = ran["taskArns"][0].rsplit("/", 1)[-1]
    one = signed_in.get(f"/console/tasks/ecs-scheduled-batch/{task_id}").body
    assert 'class="badge failed"' in one and "FAILED (exit 3)" in one
