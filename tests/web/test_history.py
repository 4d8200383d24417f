"""A failed run looks failed in the console: red with its exit code in a rule's and a schedule's history, counted as
a failure in the chart, explained on the invocation's page."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from cronbridge import seed_iam
from fixtures.browser import shot, sign_in
from fixtures.ecs import wait_stopped
from fixtures.seed import create_seed, rule_running


def test_a_run_whose_task_exits_3_is_red_with_its_exit_code(page: Page, cronbridge_server: Any) -> None:
    made = create_seed(cronbridge_server)
    rule_running(cronbridge_server, "exits3", ["sh", "-c", "exit 3"])
    ecs = cronbridge_server.client("ecs", region="ap-northeast-1")
    for arn in cronbridge_server.post("/_cronbridge/rules/exits3/run-now", region="ap-northeast-1")["taskArns"]:
        wait_stopped(ecs, "ecs-scheduled-batch", arn)
    sign_in(page, cronbridge_server, region="ap-northeast-1")  # the seed's Region
    page.goto(f"{cronbridge_server.endpoint}/console/rules/exits3")
    row = page.locator("#invocations tbody tr").first
    expect(row).to_have_class("succeeded failed")
    badge = row.locator(".badge.failed")
    expect(badge).to_have_text("FAILED (exit 3)")
    assert page.evaluate("getComputedStyle(document.querySelector('#invocations .badge.failed')).color") == (
        "rgb(207, 34, 46)")  # --bad
    expect(row).to_contain_text("EssentialContainerExited")
    expect(page.locator("svg.chart title").first).to_have_text("1 invocations, 1 failed")
    shot(page, "rule-failed")
    row.locator("td a").first.click()
    expect(page.locator("h1 .badge.failed")).to_have_text("FAILED (exit 3)")
    expect(page.locator("#explanation")).to_contain_text("container hello")

    role = seed_iam.create_scheduler_role(cronbridge_server.client("iam", region="ap-northeast-1"),
                                          made["task_definition"])
    target = {"Arn": made["cluster"], "RoleArn": role,
              "Input": json.dumps({"containerOverrides": [{"name": "hello", "command": ["sh", "-c", "exit 4"]}]}),
              "EcsParameters": {"TaskDefinitionArn": made["task_definition"], "LaunchType": "FARGATE",
                                "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"]}}}}
    cronbridge_server.client("scheduler", region="ap-northeast-1").create_schedule(
        Name="nightly", ScheduleExpression="cron(0 3 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    ran = cronbridge_server.post("/_cronbridge/schedules/nightly/run-now?group=default", region="ap-northeast-1")
    for arn in ran["taskArns"]:
        wait_stopped(ecs, "ecs-scheduled-batch", arn)
    page.goto(f"{cronbridge_server.endpoint}/console/schedules/default/nightly")
    expect(page.locator("#invocations .badge.failed")).to_have_text("FAILED (exit 4)")
