"""Console sessions are revocable: sign-out ends every copy of the cookie, a deleted or deactivated key ends its
sessions, and a policy change applies on the next page, against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cronbridge.clock import FakeClock
from cronbridge.scope import HOME
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.documents import Documents
from cronbridge.web.sessions import Sessions
from web.test_console import Browser

READ_ALL = {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*", "ecs:List*", "events:List*"], "Resource": "*"}


def user_with(server: Any, name: str, *statements: dict[str, Any]) -> tuple[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="console", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def signed_in_as(server: Any, key: str, secret: str) -> Browser:
    browser = Browser(server.endpoint)
    assert browser.sign_in(key, secret).status == 303
    return browser


def copy_of(browser: Browser, server: Any) -> Browser:
    """Another client holding the same cookie (a stolen copy)."""
    thief = Browser(server.endpoint)
    for cookie in browser.jar:
        thief.jar.set_cookie(cookie)
    return thief


def test_signing_out_ends_every_copy_of_the_session(cronbridge_server: Any) -> None:
    owner = signed_in_as(cronbridge_server, "AKIDTEST", "secret")
    thief = copy_of(owner, cronbridge_server)
    assert thief.get("/console/iam").status == 200
    assert owner.post("/console/signout", {"csrf": owner.csrf("/console/tasks")}).status == 303
    refused = thief.get("/console/iam")
    assert refused.status == 303 and refused.headers["location"].startswith("/console/signin")


@pytest.mark.parametrize("how", ["delete", "deactivate"])
def test_a_deleted_or_deactivated_key_ends_its_sessions(cronbridge_server: Any, how: str) -> None:
    key, secret = user_with(cronbridge_server, "operator", READ_ALL)
    browser = signed_in_as(cronbridge_server, key, secret)
    assert browser.get("/console/iam").status == 200
    iam = cronbridge_server.client("iam")
    if how == "delete":
        iam.delete_access_key(UserName="operator", AccessKeyId=key)
    else:
        iam.update_access_key(UserName="operator", AccessKeyId=key, Status="Inactive")
    for path in ("/console/iam", "/console/tasks", "/console/api/logs?group=/g&stream=s"):
        assert browser.get(path).status in (303, 401)
    assert browser.get("/console/iam").headers["location"].startswith("/console/signin")


def test_a_policy_change_applies_on_the_next_page(cronbridge_server: Any) -> None:
    key, secret = user_with(cronbridge_server, "reader", READ_ALL)
    browser = signed_in_as(cronbridge_server, key, secret)
    assert browser.get("/console/iam").status == 200
    cronbridge_server.client("iam").put_user_policy(UserName="reader", PolicyName="no-iam", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}))
    denied = browser.get("/console/iam")
    assert denied.status == 403
    assert "is not authorized to perform: iam:ListRoles" in denied.body
    assert browser.get("/console/tasks").status == 200


def test_a_page_needs_the_read_its_data_takes(cronbridge_server: Any) -> None:
    key, secret = user_with(cronbridge_server, "tasks-only", {"Effect": "Allow", "Action": "ecs:ListTasks",
                                                             "Resource": "*"})
    browser = signed_in_as(cronbridge_server, key, secret)
    assert browser.get("/console/tasks").status == 200
    for path, action in [("/console/iam", "iam:ListRoles"), ("/console/schedules", "events:ListRules"),
                         ("/console/clusters", "ecs:ListClusters"), ("/console/logs", "logs:DescribeLogGroups"),
                         ("/console/alarms", "cloudwatch:DescribeAlarms")]:
        answer = browser.get(path)
        assert answer.status == 403 and action in answer.body, path


def test_the_insights_box_needs_start_query_on_the_group(cronbridge_server: Any) -> None:
    cronbridge_server.client("logs").create_log_group(logGroupName="/ecs/app")
    key, secret = user_with(cronbridge_server, "browser", {"Effect": "Allow", "Action": "logs:DescribeLogStreams",
                                                           "Resource": "*"})
    browser = signed_in_as(cronbridge_server, key, secret)
    answer = browser.get("/console/logs/group?name=/ecs/app&query=fields%20%40message")
    assert answer.status == 200 and "AccessDeniedException" in answer.body and "logs:StartQuery" in answer.body
    assert "records matched" not in answer.body  # the query did not run


def test_a_copy_of_an_ended_session_draws_no_signed_in_header(cronbridge_server: Any) -> None:
    owner = signed_in_as(cronbridge_server, "AKIDTEST", "secret")
    thief = copy_of(owner, cronbridge_server)
    assert owner.post("/console/signout", {"csrf": owner.csrf("/console/tasks")}).status == 303
    form = thief.get("/console/signin")
    assert form.status == 200 and "Sign out" not in form.body and "AKIDTEST" not in form.body


def test_sessions_expire_and_only_their_hash_is_stored(tmp_path: Path) -> None:
    clock = FakeClock(1000.0)
    docs = Documents(SqliteDatabase(tmp_path / "db.sqlite"))
    sessions = Sessions(docs, clock, HOME, hours=1)
    session_id = sessions.open("AKIDONE")
    assert sessions.key_of(session_id) == "AKIDONE"
    assert docs.get("console-session", HOME, session_id, dict) is None  # the id itself is nowhere on disk
    on_disk = b"".join(path.read_bytes() for path in tmp_path.iterdir())  # the database and its WAL
    assert session_id.encode() not in on_disk and b"AKIDONE" in on_disk
    clock.advance(3600)
    assert sessions.key_of(session_id) is None
    sessions.open("AKIDTWO")  # opening a session sweeps expired ones away
    assert len(docs.list("console-session", dict, HOME)) == 1
